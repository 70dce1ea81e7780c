"""Security Hub is enabled in every Region.

Security Hub gathers the findings of GuardDuty, Inspector, Macie, IAM Access Analyzer and others
in one format (ASFF), and its controls flag logging that was turned off. During an incident it
is the one place to list what every detector saw.
https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-settingup.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "securityhub"
SEVERITY = "medium"
NEEDS = ("securityhub.DescribeHub",)
FIX = "aws securityhub enable-security-hub --enable-default-standards --region {region}"
NOT_ENABLED = {"InvalidAccessException", "ResourceNotFoundException"}


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        hub = account.answer(region, "securityhub.DescribeHub")
        if hub.ok:
            yield passed(hub.get("HubArn", f"securityhub:{region}"), region, "enabled")
        elif (hub.error or {}).get("code") in NOT_ENABLED:
            yield failed(f"securityhub:{region}", region, f"not enabled ({hub.reason})")
        else:
            yield unknown(f"securityhub:{region}", region, hub)
