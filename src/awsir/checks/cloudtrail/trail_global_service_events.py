"""A logging trail records global service events (IAM, STS, CloudFront).

IAM, STS and CloudFront are global services: their events (a new access key, an assumed role, a
changed policy) are delivered only to trails that include global service events. A multi-Region
trail always does; a set of single-Region trails can all leave it off, and then persistence in
IAM leaves no trace past event history's 90 days.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-global-service-events
"""

from collections.abc import Iterator

from awsir.checks.cloudtrail._trails import detail, home_trails, trails
from awsir.readiness.model import GLOBAL, Account, Options, Result, failed, passed, unknown

SOURCE = "cloudtrail_trail"
SEVERITY = "high"
NEEDS = ("cloudtrail.DescribeTrails", "cloudtrail.GetTrailStatus")
FIX = (
    "aws cloudtrail update-trail --name <trail> --include-global-service-events --region us-east-1"
)


def run(account: Account, options: Options) -> Iterator[Result]:
    doubt = None
    for region in account.regions:
        if not trails(account, region).ok:
            doubt = doubt or trails(account, region)
            continue
        for trail in home_trails(account, region):
            if not (trail.get("IncludeGlobalServiceEvents") or trail.get("IsMultiRegionTrail")):
                continue
            status = detail(account, trail, "cloudtrail.GetTrailStatus")
            if status.ok and status.get("IsLogging"):
                yield passed(
                    trail["TrailARN"],
                    GLOBAL,
                    f"trail {trail['Name']} records IAM, STS and CloudFront events",
                )
                return
            doubt = doubt or (None if status.ok else status)
    if doubt is not None:
        yield unknown(f"cloudtrail:{account.id}", GLOBAL, doubt)
    else:
        yield failed(
            f"cloudtrail:{account.id}", GLOBAL, "no logging trail records global service events"
        )
