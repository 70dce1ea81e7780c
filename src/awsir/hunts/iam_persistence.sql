-- title: New IAM users, keys, passwords or administrator grants
-- severity: high
-- attack: T1098
-- needs: cloudtrail
-- why: Intruders keep their access by creating users and access keys, giving an existing user a console password, or attaching AdministratorAccess; each of these outlives the stolen credentials they started with.
SELECT time, source, actor AS subject, actor, src_ip, action, message, raw_ref
FROM cloudtrail
WHERE eventSource = 'iam.amazonaws.com'
  AND coalesce(errorCode, '') = ''
  AND (
    eventName IN ('CreateUser', 'CreateAccessKey', 'CreateLoginProfile', 'UpdateLoginProfile',
                  'CreateVirtualMFADevice', 'DeactivateMFADevice', 'UpdateAssumeRolePolicy')
    OR (eventName IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
        AND requestParameters->>'$.policyArn' LIKE '%/AdministratorAccess')
    OR (eventName IN ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy')
        AND regexp_matches(requestParameters->>'$.policyDocument', '"Action"\s*:\s*"\*"'))
  )
