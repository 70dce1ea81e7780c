"""Trails encrypt their log files with a KMS key (SSE-KMS).

With SSE-KMS, reading a trail's logs takes both s3:GetObject and kms:Decrypt on the key, so a
stolen S3 read permission alone does not expose the account's activity, and every decryption is
itself logged. The responder role must be allowed to use the key (see the evidence access
checks), or the logs are unreadable when they are needed.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html
"""

from collections.abc import Iterator

from awsir.checks.cloudtrail._trails import home_trails, trails
from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "cloudtrail_trail"
SEVERITY = "medium"
NEEDS = ("cloudtrail.DescribeTrails",)
FIX = """aws kms create-key --description "CloudTrail logs" --region {region}  # key policy: allow cloudtrail.amazonaws.com to GenerateDataKey*
aws cloudtrail update-trail --name {resource} --kms-key-id <key-arn> --region {region}"""
TERRAFORM = """# in the aws_cloudtrail resource of {resource}:
  kms_key_id = aws_kms_key.cloudtrail.arn  # key policy: allow cloudtrail.amazonaws.com kms:GenerateDataKey*"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        if not trails(account, region).ok:
            yield unknown(f"cloudtrail:{region}", region, trails(account, region))
            continue
        for trail in home_trails(account, region):
            if trail.get("KmsKeyId"):
                yield passed(
                    trail["TrailARN"],
                    region,
                    f"encrypted with {trail['KmsKeyId']}",
                    key=trail["KmsKeyId"],
                )
            else:
                yield failed(trail["TrailARN"], region, "log files use S3-managed keys only")
