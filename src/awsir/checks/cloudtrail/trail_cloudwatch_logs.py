"""Trails also send their events to CloudWatch Logs.

Events in CloudWatch Logs can be searched with Logs Insights within minutes and drive metric
filters and alarms (root sign-in, StopLogging, IAM policy changes), while S3 delivery takes
about 5 minutes per file and needs a query engine. It is the fast path when the clock runs.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html
"""

from collections.abc import Iterator

from awsir.checks.cloudtrail._trails import home_trails, trails
from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "cloudtrail_trail"
SEVERITY = "low"
NEEDS = ("cloudtrail.DescribeTrails",)
FIX = """aws logs create-log-group --log-group-name cloudtrail/{account} --region {region}
aws cloudtrail update-trail --name {resource} --cloud-watch-logs-log-group-arn <log-group-arn> --cloud-watch-logs-role-arn <role-arn> --region {region}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        if not trails(account, region).ok:
            yield unknown(f"cloudtrail:{region}", region, trails(account, region))
            continue
        for trail in home_trails(account, region):
            group = trail.get("CloudWatchLogsLogGroupArn")
            if group:
                yield passed(trail["TrailARN"], region, f"also delivered to {group}")
            else:
                yield failed(trail["TrailARN"], region, "S3 delivery only")
