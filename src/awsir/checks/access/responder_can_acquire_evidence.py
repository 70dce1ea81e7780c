"""The responder role can acquire evidence: snapshot volumes and share the snapshots.

Disk evidence from a compromised instance is taken by snapshotting its volumes and sharing the
snapshots with a forensic account, before the instance is terminated or the attacker cleans
up. Without ec2:CreateSnapshot and ec2:ModifySnapshotAttribute the team loses that race while
asking for permissions.
https://docs.aws.amazon.com/prescriptive-guidance/latest/patterns/automate-incident-response-and-forensics.html
"""

from collections.abc import Iterator

from awsir.checks.access._simulation import NO_ROLE, verdicts
from awsir.readiness.access import ACQUIRE
from awsir.readiness.model import Account, Options, Result, Status, failed, passed, unknown

SOURCE = "ec2_cloudwatch_agent"  # EC2 instances: the hosts whose disks are acquired
SEVERITY = "medium"
NEEDS = ("iam.SimulatePrincipalPolicy",)
FIX = """# allow the responder role: {missing}
aws iam attach-role-policy --role-name <responder-role> --policy-arn <policy allowing ec2:CreateSnapshot, ec2:ModifySnapshotAttribute, ec2:DescribeInstances, ec2:DescribeVolumes>"""


def run(account: Account, options: Options) -> Iterator[Result]:
    access = account.access
    if access is None:
        yield Result(Status.not_applicable, account.id, "global", NO_ROLE)
        return
    principal = access.get("principal", "responder")
    missing, doubt = verdicts(access, list(ACQUIRE))
    if doubt is not None:
        yield unknown(principal, "global", doubt)
    elif missing:
        yield failed(
            principal, "global", "cannot: " + "; ".join(missing), missing=", ".join(missing)
        )
    else:
        yield passed(principal, "global", "can snapshot volumes and share the snapshots")
