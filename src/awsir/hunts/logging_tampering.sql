-- title: Logging or detection turned off or weakened
-- severity: high
-- attack: T1562.008
-- needs: cloudtrail
-- why: An intruder blinds the responders before acting: trails stopped, deleted or narrowed, flow logs and DNS query logs deleted, GuardDuty, Security Hub or AWS Config switched off, log groups deleted or their retention cut.
SELECT time, source, actor AS subject, actor, src_ip, action, message, raw_ref
FROM cloudtrail
WHERE coalesce(errorCode, '') = ''
  AND (
    (eventSource = 'cloudtrail.amazonaws.com' AND eventName IN (
      'StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors',
      'DeleteEventDataStore', 'StopEventDataStoreIngestion'))
    OR (eventSource = 'ec2.amazonaws.com' AND eventName = 'DeleteFlowLogs')
    OR (eventSource = 'route53resolver.amazonaws.com' AND eventName IN (
      'DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig'))
    OR (eventSource = 'guardduty.amazonaws.com' AND eventName IN (
      'DeleteDetector', 'DisassociateFromMasterAccount', 'DisassociateFromAdministratorAccount',
      'StopMonitoringMembers', 'DeleteMembers', 'UpdateDetector', 'CreateIPSet', 'UpdateIPSet'))
    OR (eventSource = 'securityhub.amazonaws.com' AND eventName IN (
      'DisableSecurityHub', 'BatchDisableStandards', 'DeleteInsight', 'UpdateStandardsControl'))
    OR (eventSource = 'config.amazonaws.com' AND eventName IN (
      'StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'))
    OR (eventSource = 'logs.amazonaws.com' AND eventName IN (
      'DeleteLogGroup', 'DeleteLogStream', 'PutRetentionPolicy', 'DeleteSubscriptionFilter'))
  )
  -- UpdateDetector only when it disables the detector
  AND NOT (eventName = 'UpdateDetector' AND coalesce(requestParameters->>'$.enable', 'false') = 'true')
