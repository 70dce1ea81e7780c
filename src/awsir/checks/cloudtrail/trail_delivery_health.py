"""Trails are logging and delivering to their bucket without errors.

A trail can exist, be multi-Region and still record nothing: logging stopped (StopLogging is a
classic first move of an intruder), or CloudTrail cannot write to the bucket (a changed bucket
policy or KMS key policy), in which case events are dropped after retries. GetTrailStatus tells
both: IsLogging, LatestDeliveryError and the time of the last delivery.
https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from awsir.checks.cloudtrail._trails import detail, home_trails, trails
from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "cloudtrail_trail"
SEVERITY = "high"
NEEDS = ("cloudtrail.DescribeTrails", "cloudtrail.GetTrailStatus")
FIX = """aws cloudtrail get-trail-status --name {resource} --region {region}   # read LatestDeliveryError
aws cloudtrail start-logging --name {resource} --region {region}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        if not trails(account, region).ok:
            yield unknown(f"cloudtrail:{region}", region, trails(account, region))
            continue
        for trail in home_trails(account, region):
            status = detail(account, trail, "cloudtrail.GetTrailStatus")
            arn = trail["TrailARN"]
            if not status.ok:
                yield unknown(arn, region, status)
            elif not status.get("IsLogging"):
                yield failed(
                    arn, region, f"logging is stopped (since {status.get('StopLoggingTime', '?')})"
                )
            elif status.get("LatestDeliveryError"):
                yield failed(arn, region, f"delivery fails: {status.get('LatestDeliveryError')}")
            elif _stale(status.get("LatestDeliveryTime"), options.delivery_hours):
                yield failed(
                    arn, region, f"no delivery since {status.get('LatestDeliveryTime') or 'ever'}"
                )
            else:
                yield passed(arn, region, f"delivered at {status.get('LatestDeliveryTime')}")


def _stale(when: str | None, hours: int) -> bool:
    if not when:
        return True
    return datetime.now(UTC) - datetime.fromisoformat(when) > timedelta(hours=hours)
