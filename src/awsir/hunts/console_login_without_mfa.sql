-- title: Console sign-in without MFA
-- severity: medium
-- attack: T1078
-- needs: cloudtrail
-- why: A password alone opened a console session. Phished or reused passwords are the usual way into an account whose users have no MFA; the session can do anything the user can.
SELECT time, source, actor AS subject, actor, src_ip, action, message, raw_ref
FROM cloudtrail
WHERE eventName = 'ConsoleLogin'
  AND responseElements->>'$.ConsoleLogin' = 'Success'
  AND additionalEventData->>'$.MFAUsed' = 'No'
  AND coalesce(userIdentity->>'$.type', '') <> 'AssumedRole'  -- SSO / federation: MFA happens at the IdP
