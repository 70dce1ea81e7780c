"""Trails have log file integrity validation on.

With validation, CloudTrail writes a signed digest file every hour that chains the hashes of the
log files it delivered; `aws cloudtrail validate-logs` then proves that no log file was
modified, deleted or forged after delivery. An intruder with access to the bucket can rewrite
history otherwise, and the evidence loses its weight.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html
"""

from collections.abc import Iterator

from awsir.checks.cloudtrail._trails import home_trails, trails
from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "cloudtrail_digest"
SEVERITY = "medium"
NEEDS = ("cloudtrail.DescribeTrails",)
FIX = "aws cloudtrail update-trail --name {resource} --enable-log-file-validation --region {region}"
TERRAFORM = """# in the aws_cloudtrail resource of {resource}:
  enable_log_file_validation = true"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        if not trails(account, region).ok:
            yield unknown(f"cloudtrail:{region}", region, trails(account, region))
            continue
        for trail in home_trails(account, region):
            if trail.get("LogFileValidationEnabled"):
                yield passed(trail["TrailARN"], region, "digest files are written")
            else:
                yield failed(trail["TrailARN"], region, "log file validation is off")
