"""Buckets have S3 server access logging on, into another bucket that exists.

Server access logs record every request to a bucket (requester, source IP, operation, key,
result, bytes), including anonymous ones and those CloudTrail data events are not enabled for:
they are how to answer "who read or deleted objects in this bucket" at no extra charge but
storage. A bucket logging into itself loops, and logs nothing usable.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html
"""

from collections.abc import Iterator

from awsir.checks.s3._buckets import buckets, logging_target, names
from awsir.readiness.model import GLOBAL, Account, Answer, Options, Result, failed, passed, unknown

SOURCE = "s3_access"
SEVERITY = "medium"
NEEDS = ("s3.ListBuckets", "s3.GetBucketLogging")
FIX = """aws s3api put-bucket-logging --bucket {resource} --bucket-logging-status '{{"LoggingEnabled": {{"TargetBucket": "<log-bucket>", "TargetPrefix": "{resource}/"}}}}'"""
TERRAFORM = """resource "aws_s3_bucket_logging" "{label}" {{
  bucket        = "{resource}"
  target_bucket = "<log-bucket>"
  target_prefix = "{resource}/"
}}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    if not buckets(account).ok:
        yield unknown("s3", GLOBAL, buckets(account))
        return
    mine = set(names(account))
    for name in names(account):
        logging = logging_target(account, name)
        if not logging.ok:
            yield unknown(name, GLOBAL, logging)
            continue
        target = (logging.get("LoggingEnabled") or {}).get("TargetBucket")
        if not target:
            yield failed(name, GLOBAL, "server access logging is off")
        elif target == name:
            yield failed(name, GLOBAL, "logs into itself", target=target)
        elif target not in mine:  # deleted, or another account's log archive
            hint = f"logs to {target}, not a bucket of this account: check it exists there"
            yield unknown(name, GLOBAL, Answer(None, {"code": "NotVisible", "message": hint}))
        else:
            yield passed(name, GLOBAL, f"logs to {target}", target=target)
