-- title: Burst of AccessDenied errors from one principal
-- severity: medium
-- attack: T1580
-- needs: cloudtrail
-- why: Stolen credentials are first used to find out what they allow: many denied calls in a few minutes (ListBuckets, DescribeInstances, GetAccountAuthorizationDetails...) are that discovery.
WITH denied AS (
  SELECT *, count(*) OVER (PARTITION BY actor ORDER BY time
    RANGE BETWEEN INTERVAL 10 MINUTES PRECEDING AND INTERVAL 10 MINUTES FOLLOWING) AS nearby
  FROM cloudtrail
  WHERE outcome = 'denied' AND actor IS NOT NULL
)
SELECT time, source, actor AS subject, actor, src_ip, action, message, raw_ref
FROM denied WHERE nearby >= 10
