"""CloudWatch log groups are encrypted with a KMS key.

Log groups hold application output that often carries tokens, personal data and request
bodies. With a customer managed key, reading them takes kms:Decrypt too (and every use of the
key is logged), so the responder role must be granted the key: this check and the evidence
access check go together.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "cloudwatch_logs"
SEVERITY = "low"
NEEDS = ("logs.DescribeLogGroups",)
FIX = "aws logs associate-kms-key --log-group-name {resource} --kms-key-id <key-arn> --region {region}   # the key policy must allow logs.{region}.amazonaws.com"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        groups = account.answer(region, "logs.DescribeLogGroups")
        if not groups.ok:
            yield unknown(f"logs:{region}", region, groups)
            continue
        for group in groups.get("logGroups") or []:
            if group.get("kmsKeyId"):
                yield passed(group["logGroupName"], region, f"encrypted with {group['kmsKeyId']}")
            else:
                yield failed(group["logGroupName"], region, "CloudWatch-managed encryption only")
