-- title: Snapshots or images shared outside the account
-- severity: high
-- attack: T1537
-- needs: cloudtrail
-- why: Sharing an EBS or RDS snapshot or an AMI with another account (or making it public) copies a disk out of the account without a single byte crossing the network logs.
SELECT time, source, actor AS subject, actor, src_ip, action, message, raw_ref
FROM cloudtrail
WHERE coalesce(errorCode, '') = ''
  AND (
    (eventName = 'ModifySnapshotAttribute' AND json_exists(requestParameters, '$.createVolumePermission.add'))
    OR (eventName = 'ModifyImageAttribute' AND json_exists(requestParameters, '$.launchPermission.add'))
    OR (eventName IN ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
        AND requestParameters->>'$.attributeName' = 'restore'
        AND json_array_length(requestParameters, '$.valuesToAdd') > 0)
  )
