-- title: Secrets or parameters read in bulk
-- severity: high
-- attack: T1555.006
-- needs: cloudtrail
-- why: Reading many secrets (Secrets Manager) or decrypted parameters (Systems Manager) in a short time is credential harvesting: database passwords and API keys that open other systems.
WITH reads AS (
  SELECT *, count(*) OVER (PARTITION BY actor ORDER BY time
    RANGE BETWEEN INTERVAL 30 MINUTES PRECEDING AND INTERVAL 30 MINUTES FOLLOWING) AS nearby
  FROM cloudtrail
  WHERE coalesce(errorCode, '') = '' AND actor IS NOT NULL
    AND ((eventSource = 'secretsmanager.amazonaws.com' AND eventName IN ('GetSecretValue', 'BatchGetSecretValue'))
      OR (eventSource = 'ssm.amazonaws.com' AND eventName IN ('GetParameter', 'GetParameters', 'GetParametersByPath')
          AND requestParameters->>'$.withDecryption' = 'true'))
)
SELECT time, source, actor AS subject, actor, src_ip, action, message, raw_ref
FROM reads WHERE nearby >= 10
