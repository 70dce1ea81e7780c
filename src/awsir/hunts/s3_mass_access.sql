-- title: Mass reads or deletes of S3 objects by one principal
-- severity: high
-- attack: T1530
-- needs: cloudtrail
-- why: Hundreds of GetObject calls in an hour by one principal is bulk download of data (exfiltration); a burst of DeleteObject is destruction or ransom. Seen in CloudTrail data events.
WITH objects AS (
  SELECT *, count(*) OVER (PARTITION BY actor, eventName ORDER BY time
    RANGE BETWEEN INTERVAL 30 MINUTES PRECEDING AND INTERVAL 30 MINUTES FOLLOWING) AS nearby
  FROM cloudtrail
  WHERE eventSource = 's3.amazonaws.com' AND eventName IN ('GetObject', 'DeleteObject', 'DeleteObjects')
    AND coalesce(errorCode, '') = '' AND actor IS NOT NULL
)
SELECT time, source, actor AS subject, actor, src_ip, action, message, raw_ref
FROM objects WHERE nearby >= 100
