-- title: Mass object reads or deletes in S3 server access logs
-- severity: high
-- attack: T1530
-- needs: s3_access
-- why: The same bulk download or deletion as in CloudTrail data events, seen in server access logs, which many buckets have when data events are off; anonymous requests (public buckets, presigned URLs) are counted per address.
WITH objects AS (
  SELECT *, coalesce(requester, 'anonymous from ' || remote_ip) AS who,
    count(*) OVER (PARTITION BY coalesce(requester, remote_ip), operation ORDER BY time
      RANGE BETWEEN INTERVAL 30 MINUTES PRECEDING AND INTERVAL 30 MINUTES FOLLOWING) AS nearby
  FROM s3_access
  WHERE operation IN ('REST.GET.OBJECT', 'REST.DELETE.OBJECT', 'REST.POST.MULTI_OBJECT_DELETE')
    AND http_status < 300
)
SELECT time, source, who AS subject, actor, src_ip, action, message, raw_ref
FROM objects WHERE nearby >= 100
