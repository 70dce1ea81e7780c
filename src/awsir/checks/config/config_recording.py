"""AWS Config records every resource type, and delivers.

Config's history answers "what did this security group, bucket policy or role look like before
the intruder changed it, and when did it change": configuration items outlive the resources
CloudTrail only names. Recording must cover all resource types (global ones in one Region) and
be running, with a delivery channel.
https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "config"
SEVERITY = "medium"
NEEDS = ("config.DescribeConfigurationRecorders", "config.DescribeConfigurationRecorderStatus",
         "config.DescribeDeliveryChannels")  # fmt: skip
FIX = """aws configservice put-configuration-recorder --configuration-recorder name=default,roleARN=<config-role-arn> --recording-group allSupported=true,includeGlobalResourceTypes=true --region {region}
aws configservice put-delivery-channel --delivery-channel name=default,s3BucketName=<config-bucket> --region {region}
aws configservice start-configuration-recorder --configuration-recorder-name default --region {region}"""
TERRAFORM = """resource "aws_config_configuration_recorder" "default" {{  # provider region {region}
  name     = "default"
  role_arn = "<config-role-arn>"
  recording_group {{
    all_supported                 = true
    include_global_resource_types = true
  }}
}}
resource "aws_config_delivery_channel" "default" {{
  name           = "default"
  s3_bucket_name = "<config-bucket>"
  depends_on     = [aws_config_configuration_recorder.default]
}}
resource "aws_config_configuration_recorder_status" "default" {{
  name       = aws_config_configuration_recorder.default.name
  is_enabled = true
  depends_on = [aws_config_delivery_channel.default]
}}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        answers = [account.answer(region, n) for n in NEEDS]
        bad = [a for a in answers if not a.ok]
        if bad:
            yield unknown(f"config:{region}", region, bad[0])
            continue
        recorders, statuses, channels = answers
        found = recorders.get("ConfigurationRecorders") or []
        running = {
            s.get("name")
            for s in statuses.get("ConfigurationRecordersStatus") or []
            if s.get("recording")
        }
        if not found:
            yield failed(f"config:{region}", region, "no configuration recorder")
            continue
        recorder = found[0]
        group = recorder.get("recordingGroup") or {}
        problems = []
        if not group.get("allSupported"):
            problems.append("records only some resource types")
        if recorder.get("name") not in running:
            problems.append("recorder stopped")
        if not channels.get("DeliveryChannels"):
            problems.append("no delivery channel")
        name = recorder.get("name", "default")
        yield (failed(name, region, "; ".join(problems)) if problems
               else passed(name, region, "records all resource types"))  # fmt: skip
