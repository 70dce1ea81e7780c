"""What the S3 checks share: a bucket's settings, where "not configured" is an answer, not an
error (S3 reports a missing lifecycle, policy or lock configuration as an error code).
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
"""

from __future__ import annotations

from awsir.readiness.model import GLOBAL, Account, Answer

NOT_CONFIGURED = {
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "ObjectLockConfigurationNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
}


def buckets(account: Account) -> Answer:
    return account.answer(GLOBAL, "s3.ListBuckets")


def names(account: Account) -> list[str]:
    return [b["Name"] for b in buckets(account).get("Buckets") or []]


def setting(account: Account, bucket: str, call: str) -> Answer:
    """One bucket's answer to ``call`` (an empty answer when the setting is simply absent)."""
    found = account.each(GLOBAL, call).get(bucket)
    if found is None:
        return Answer(None, {"code": "NotCollected", "message": f"{call} of {bucket} not asked"})
    if found.error and found.error.get("code") in NOT_CONFIGURED:
        return Answer({}, None)
    return found


def logging_target(account: Account, bucket: str) -> Answer:
    return setting(account, bucket, "s3.GetBucketLogging")


def expiry_days(lifecycle: Answer) -> int | None:
    """The shortest expiration of current objects in enabled lifecycle rules, in days."""
    days = [
        rule["Expiration"]["Days"]
        for rule in lifecycle.get("Rules") or []
        if rule.get("Status") == "Enabled" and (rule.get("Expiration") or {}).get("Days")
    ]
    return min(days) if days else None
