SELECT * FROM "s3_access" AS e WHERE "operation" ILIKE 'REST.GET.OBJECT' ESCAPE '\' AND "http_status" = 200 AND "requester" IS NULL
