"""CloudWatch log groups keep their events at least as long as the team needs.

Lambda, API Gateway, EKS, RDS, VPC flow and Route 53 logs often live only in CloudWatch Logs.
A retention shorter than the time it takes to find an intrusion (months, typically) deletes the
evidence before anyone asks for it. "Never expire" passes. The threshold is
`--retention-days` (365 by default).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "cloudwatch_logs"
SEVERITY = "medium"
NEEDS = ("logs.DescribeLogGroups",)
FIX = "aws logs put-retention-policy --log-group-name {resource} --retention-in-days {wanted} --region {region}"
TERRAFORM = """# in the aws_cloudwatch_log_group resource of {resource}:
  retention_in_days = {wanted}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        groups = account.answer(region, "logs.DescribeLogGroups")
        if not groups.ok:
            yield unknown(f"logs:{region}", region, groups)
            continue
        for group in groups.get("logGroups") or []:
            days = group.get("retentionInDays")
            name = group["logGroupName"]
            if days is None:
                yield passed(name, region, "never expires")
            elif days < options.retention_days:
                yield failed(name, region, f"events expire after {days} days (< {options.retention_days})",
                             wanted=_next_allowed(options.retention_days))  # fmt: skip
            else:
                yield passed(name, region, f"kept {days} days")


def _next_allowed(days: int) -> int:
    """The smallest retention CloudWatch accepts that is at least ``days``."""
    allowed = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
               2557, 2922, 3288, 3653)  # fmt: skip
    return next((a for a in allowed if a >= days), allowed[-1])
