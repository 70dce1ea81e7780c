-- title: The root user was used
-- severity: high
-- attack: T1078.004
-- needs: cloudtrail
-- why: The root user cannot be limited by IAM policies and should hold no access keys; outside account recovery and a few billing tasks any use of it is suspect.
SELECT time, source, actor AS subject, actor, src_ip, action, message, raw_ref
FROM cloudtrail
WHERE userIdentity->>'$.type' = 'Root'
  AND userIdentity->>'$.invokedBy' IS NULL
  AND coalesce(eventType, '') <> 'AwsServiceEvent'
