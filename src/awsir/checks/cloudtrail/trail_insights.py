"""Trails have CloudTrail Insights on (API call rate and error rate).

Insights events flag unusual volumes of write calls or errors against a learned baseline: a
burst of RunInstances for crypto-mining, a spike of AccessDenied while an intruder probes
permissions. They are the cheap tripwire that tells a team to start looking.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-insights-events-with-cloudtrail.html
"""

from collections.abc import Iterator

from awsir.checks.cloudtrail._trails import detail, home_trails, trails
from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "cloudtrail_insights"
SEVERITY = "low"
NEEDS = ("cloudtrail.DescribeTrails", "cloudtrail.GetInsightSelectors")
FIX = """aws cloudtrail put-insight-selectors --trail-name {resource} --insight-selectors '[{{"InsightType": "ApiCallRateInsight"}}, {{"InsightType": "ApiErrorRateInsight"}}]' --region {region}"""
NOT_CONFIGURED = "InsightNotEnabledException"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        if not trails(account, region).ok:
            yield unknown(f"cloudtrail:{region}", region, trails(account, region))
            continue
        for trail in home_trails(account, region):
            insights = detail(account, trail, "cloudtrail.GetInsightSelectors")
            kinds = [s.get("InsightType") for s in insights.get("InsightSelectors") or []]
            if kinds:
                yield passed(trail["TrailARN"], region, f"Insights: {', '.join(kinds)}")
            elif insights.ok or (insights.error or {}).get("code") == NOT_CONFIGURED:
                yield failed(trail["TrailARN"], region, "Insights are off")
            else:
                yield unknown(trail["TrailARN"], region, insights)
