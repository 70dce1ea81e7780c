"""What a responder must be allowed to do to use the evidence at each location, as IAM actions
on resource ARNs; and, for the account, to acquire evidence (snapshot and share volumes).

Reading S3 logs takes s3:ListBucket on the bucket and s3:GetObject under the prefix, and
kms:Decrypt on the key when the objects are SSE-KMS encrypted (the key policy must allow it
too). Reading a log group takes logs:FilterLogEvents, logs:GetLogEvents and logs:StartQuery.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/permissions-reference-cwl.html
"""

from __future__ import annotations

from dataclasses import dataclass

from awsir.readiness.locations import Location


@dataclass(frozen=True)
class Need:
    """One permission: ``action`` on ``resource``, checked with the resource policy of
    ``policy_of`` (``s3:<bucket>`` or ``kms:<key arn>``) when there is one."""

    action: str
    resource: str
    policy_of: str | None = None


ACQUIRE = (
    Need("ec2:CreateSnapshot", "*"),
    Need("ec2:ModifySnapshotAttribute", "*"),  # share the copy with the forensic account
    Need("ec2:DescribeInstances", "*"),
    Need("ec2:DescribeVolumes", "*"),
)
"""Evidence acquisition: snapshot an instance's volumes and share them for forensics."""


def key_arn(key: str, region: str, account: str) -> str:
    """A KMS key as an ARN (trails and log groups may name it by id or alias)."""
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        return f"arn:aws:kms:{region}:{account}:{key}"
    return f"arn:aws:kms:{region}:{account}:key/{key}"


def needs(location: Location) -> list[Need]:
    found: list[Need] = []
    if location.kind == "s3" and location.bucket:
        bucket = f"arn:aws:s3:::{location.bucket}"
        found += [
            Need("s3:ListBucket", bucket, f"s3:{location.bucket}"),
            Need("s3:GetObject", f"{bucket}/{location.prefix or ''}*", f"s3:{location.bucket}"),
        ]
    elif location.kind == "cloudwatch_logs" and location.log_group:
        group = (
            f"arn:aws:logs:{location.region}:{location.account}:log-group:{location.log_group}:*"
        )
        found += [Need(a, group) for a in ("logs:FilterLogEvents", "logs:GetLogEvents",
                                            "logs:StartQuery")]  # fmt: skip
    elif location.kind == "api" and location.api:
        found.append(Need(location.api, "*"))
        if location.api == "guardduty:GetFindings":
            found.append(Need("guardduty:ListFindings", "*"))
    if location.kms_key:
        key = key_arn(location.kms_key, location.region, location.account)
        found.append(Need("kms:Decrypt", key, f"kms:{key}"))
    return found
