"""Buckets that hold data are covered by CloudTrail S3 data events.

Management events do not record object reads and writes. Data events (GetObject, PutObject,
DeleteObject...) name the principal, its access key, source IP and the object: how to tell what
an intruder took from a bucket, with the identity behind a request. Server access logs record
requests too, but best effort and without the session's identity details. Buckets that only
receive logs are left out.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
"""

from collections.abc import Iterator
from typing import Any

from awsir.checks.cloudtrail._trails import detail, home_trails, trails
from awsir.checks.s3._buckets import buckets, names
from awsir.readiness.locations import locations
from awsir.readiness.model import GLOBAL, Account, Options, Result, failed, passed, unknown

SOURCE = "cloudtrail_data_events"
SEVERITY = "medium"
NEEDS = ("cloudtrail.DescribeTrails", "cloudtrail.GetEventSelectors", "s3.ListBuckets")
FIX = """aws cloudtrail put-event-selectors --trail-name <trail> --advanced-event-selectors '[{{"Name": "S3 data events", "FieldSelectors": [{{"Field": "eventCategory", "Equals": ["Data"]}}, {{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}}, {{"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::{resource}/"]}}]}}]'"""
TERRAFORM = """# in the aws_cloudtrail resource that should log {resource}'s objects:
  advanced_event_selector {{
    name = "S3 data events of {resource}"
    field_selector {{
      field  = "eventCategory"
      equals = ["Data"]
    }}
    field_selector {{
      field  = "resources.type"
      equals = ["AWS::S3::Object"]
    }}
    field_selector {{
      field       = "resources.ARN"
      starts_with = ["arn:aws:s3:::{resource}/"]
    }}
  }}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    if not buckets(account).ok:
        yield unknown("s3", GLOBAL, buckets(account))
        return
    covered: list[str] = []  # ARN prefixes of objects whose data events some trail logs
    for region in account.regions:
        if not trails(account, region).ok:
            yield unknown(f"cloudtrail:{region}", region, trails(account, region))
            return
        for trail in home_trails(account, region):
            selectors = detail(account, trail, "cloudtrail.GetEventSelectors")
            if not selectors.ok:
                yield unknown(trail["TrailARN"], region, selectors)
                return
            covered += _object_prefixes(
                selectors.get("EventSelectors"), selectors.get("AdvancedEventSelectors")
            )
    log_buckets = {loc.bucket for loc in locations(account) if loc.kind == "s3"}
    for name in names(account):
        if name in log_buckets:
            continue
        arn = f"arn:aws:s3:::{name}/"
        if any(arn.startswith(p) or p.startswith(arn) for p in covered):
            yield passed(name, GLOBAL, "object reads and writes are logged")
        else:
            yield failed(name, GLOBAL, "no trail logs its data events")


def _object_prefixes(basic: Any, advanced: Any) -> list[str]:
    found = []
    for selector in basic or []:
        for resource in selector.get("DataResources") or []:
            if resource.get("Type") == "AWS::S3::Object":
                found += [
                    ("arn:aws:s3:::" if v in ("arn:aws:s3", "arn:aws:s3:::") else v)
                    for v in resource.get("Values") or []
                ]
    for selector in advanced or []:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}
        if "Data" in (
            fields.get("eventCategory", {}).get("Equals") or []
        ) and "AWS::S3::Object" in (fields.get("resources.type", {}).get("Equals") or []):
            arn = fields.get("resources.ARN") or {}
            found += (
                arn.get("StartsWith") or arn.get("Equals") or ([] if arn else ["arn:aws:s3:::"])
            )
    return found
