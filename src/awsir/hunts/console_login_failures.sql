-- title: Failed console sign-ins (password guessing, unknown users)
-- severity: medium
-- attack: T1110
-- needs: cloudtrail
-- why: Failed console sign-ins from one address are password guessing or spraying; AWS writes HIDDEN_DUE_TO_SECURITY_REASONS as the user name when the user does not exist, which is the enumeration of user names.
SELECT time, source, coalesce(src_ip, actor) AS subject, actor, src_ip, action, message, raw_ref
FROM cloudtrail
WHERE eventName = 'ConsoleLogin'
  AND (responseElements->>'$.ConsoleLogin' = 'Failure' OR errorMessage IS NOT NULL)
