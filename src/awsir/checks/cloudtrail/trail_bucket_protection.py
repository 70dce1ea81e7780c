"""The bucket a trail delivers to is private, has its own access logs, and keeps logs long enough.

The trail bucket is the evidence locker: public, it leaks the account's activity; without access
logs, nobody can tell who read or deleted log files; with a lifecycle rule that expires objects
before the retention the team needs (or no Object Lock), the history an investigation needs is
gone. A bucket in another account (a log archive) is not visible to this scan: it is reported
as unknown, to be checked in that account.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html
"""

from collections.abc import Iterator

from awsir.checks.cloudtrail._trails import home_trails, trails
from awsir.checks.s3._buckets import buckets, expiry_days, logging_target, names, setting
from awsir.readiness.model import Account, Answer, Options, Result, failed, passed, unknown

SOURCE = "cloudtrail_trail"
SEVERITY = "high"
NEEDS = ("cloudtrail.DescribeTrails", "s3.ListBuckets", "s3.GetBucketPolicyStatus",
         "s3.GetBucketLogging", "s3.GetBucketLifecycleConfiguration", "s3.GetObjectLockConfiguration")  # fmt: skip
FIX = """aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
aws s3api put-bucket-logging --bucket {bucket} --bucket-logging-status '{{"LoggingEnabled": {{"TargetBucket": "<log-bucket>", "TargetPrefix": "{bucket}/"}}}}'
aws s3api get-bucket-lifecycle-configuration --bucket {bucket}   # expire after at least the retention you need"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        if not trails(account, region).ok:
            continue  # the trail checks report it
        for trail in home_trails(account, region):
            bucket = trail.get("S3BucketName", "")
            if not buckets(account).ok:
                yield unknown(bucket, region, buckets(account))
            elif bucket not in names(account):
                hint = "not in this account (a log archive?): check it there"
                yield unknown(bucket, region, Answer(None, {"code": "NotVisible", "message": hint}))
            else:
                yield _verdict(account, bucket, region, options)


def _verdict(account: Account, bucket: str, region: str, options: Options) -> Result:
    policy = setting(account, bucket, "s3.GetBucketPolicyStatus")
    logging = logging_target(account, bucket)
    lifecycle = setting(account, bucket, "s3.GetBucketLifecycleConfiguration")
    lock = setting(account, bucket, "s3.GetObjectLockConfiguration")
    for answer in (policy, logging, lifecycle, lock):
        if not answer.ok:
            return unknown(bucket, region, answer)
    problems = []
    if (policy.get("PolicyStatus") or {}).get("IsPublic"):
        problems.append("the bucket policy makes it public")
    if not logging.get("LoggingEnabled"):
        problems.append("no server access logs")
    days = expiry_days(lifecycle)
    if days is not None and days < options.retention_days:
        problems.append(
            f"a lifecycle rule expires logs after {days} days (< {options.retention_days})"
        )
    locked = (lock.get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled"
    if problems:
        return failed(bucket, region, "; ".join(problems), bucket=bucket, object_lock=locked)
    return passed(
        bucket,
        region,
        "private, logged, kept" + (", Object Lock on" if locked else ""),
        bucket=bucket,
        object_lock=locked,
    )
