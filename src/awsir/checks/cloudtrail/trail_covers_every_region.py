"""Every Region is covered by a trail that is logging all management events.

Without a trail, CloudTrail keeps 90 days of management events in event history, in the Region
where they happened, and nothing after that: the first question of an investigation (who did
what, when, from where) has no answer for older events or for a Region nobody looked at.
Attackers favour Regions the team does not use. A multi-Region trail (or an organization trail)
logging read and write management events covers every Region, including ones enabled later.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/receive-cloudtrail-log-files-from-multiple-regions.html
"""

from collections.abc import Iterator
from typing import Any

from awsir.checks.cloudtrail._trails import covers, detail, records_all_management_events, trails
from awsir.readiness.model import Account, Answer, Options, Result, failed, passed, unknown

SOURCE = "cloudtrail_trail"
SEVERITY = "critical"
NEEDS = ("cloudtrail.DescribeTrails", "cloudtrail.GetTrailStatus", "cloudtrail.GetEventSelectors")
FIX = """aws s3 mb s3://cloudtrail-{account} --region {region}  # plus the bucket policy CloudTrail needs
aws cloudtrail create-trail --name org-trail --s3-bucket-name cloudtrail-{account} --is-multi-region-trail --enable-log-file-validation --region {region}
aws cloudtrail start-logging --name org-trail --region {region}"""
TERRAFORM = """resource "aws_cloudtrail" "main" {{
  name                          = "org-trail"
  s3_bucket_name                = "cloudtrail-{account}"  # with the bucket policy CloudTrail needs
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  enable_logging                = true
}}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        listed = trails(account, region)
        if not listed.ok:
            yield unknown(f"cloudtrail:{region}", region, listed)
            continue
        verdicts = [
            _logs_here(account, t) for t in listed.get("trailList", []) if covers(t, region)
        ]
        good = [trail for trail, problem in verdicts if problem is None]
        doubts = [problem for _, problem in verdicts if isinstance(problem, Answer)]
        if good:
            yield passed(
                good[0]["TrailARN"], region, f"trail {good[0]['Name']} logs all management events"
            )
        elif doubts:
            yield unknown(f"cloudtrail:{region}", region, doubts[0])
        else:
            seen = ", ".join(f"{t['Name']} ({problem})" for t, problem in verdicts)
            yield failed(
                f"cloudtrail:{region}",
                region,
                "no trail logs all management events" + (f": {seen}" if seen else ""),
            )


def _logs_here(
    account: Account, trail: dict[str, Any]
) -> tuple[dict[str, Any], Answer | str | None]:
    """The trail, and why it does not log all management events (None: it does; an Answer: a
    call that failed, so nobody can tell)."""
    status = detail(account, trail, "cloudtrail.GetTrailStatus")
    selectors = detail(account, trail, "cloudtrail.GetEventSelectors")
    for answer in (status, selectors):
        if not answer.ok:
            return trail, answer
    if not status.get("IsLogging"):
        return trail, "not logging"
    if not records_all_management_events(selectors):
        return trail, "not all management events"
    return trail, None
