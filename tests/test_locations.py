"""The log-location map from an inventory fixture: GuardDuty exports, WAF logs in S3 and
through Firehose (pure: no AWS). The inventory's shapes are those of the APIs' answers."""

from __future__ import annotations

from datetime import UTC, datetime

from awsir.collect.windows import Window, day_prefixes, in_window
from awsir.readiness.locations import locations
from awsir.readiness.model import GLOBAL, Account

ACCT = "111122223333"
ACL = f"arn:aws:wafv2:eu-west-1:{ACCT}:regional/webacl/shop/1a2b"
CF_ACL = f"arn:aws:wafv2:us-east-1:{ACCT}:global/webacl/edge/3c4d"
STREAM = f"arn:aws:firehose:eu-west-1:{ACCT}:deliverystream/aws-waf-logs-shop"


def ok(data: object) -> dict:
    return {"ok": data}


def inventory(firehose_prefix: str) -> Account:
    region = {
        "guardduty.ListDetectors": ok({"DetectorIds": ["d1"]}),
        "guardduty.ListPublishingDestinations": {
            "d1": ok({"Destinations": [{"DestinationId": "p1", "DestinationType": "S3"}]})
        },
        "guardduty.DescribePublishingDestination": {
            "d1/p1": ok(
                {
                    "DestinationId": "p1",
                    "DestinationType": "S3",
                    "Status": "PUBLISHING",
                    "DestinationProperties": {
                        "DestinationArn": "arn:aws:s3:::findings-archive/guardduty/",
                        "KmsKeyArn": f"arn:aws:kms:eu-west-1:{ACCT}:key/k1",
                    },
                }
            )
        },
        "wafv2.GetLoggingConfiguration": {
            ACL: ok(
                {
                    "LoggingConfiguration": {
                        "ResourceArn": ACL,
                        "LogDestinationConfigs": [f"arn:aws:s3:::aws-waf-logs-{ACCT}", STREAM],
                    }
                }
            )
        },
        "firehose.DescribeDeliveryStream": {
            "aws-waf-logs-shop": ok(
                {
                    "DeliveryStreamDescription": {
                        "DeliveryStreamARN": STREAM,
                        "Destinations": [
                            {
                                "DestinationId": "destinationId-000000000001",
                                "ExtendedS3DestinationDescription": {
                                    "BucketARN": "arn:aws:s3:::central-logs",
                                    "Prefix": firehose_prefix,
                                },
                            }
                        ],
                    }
                }
            )
        },
    }
    cloudfront = {
        "wafv2.GetLoggingConfiguration#cloudfront": {
            CF_ACL: ok({"LoggingConfiguration": {"ResourceArn": CF_ACL, "LogDestinationConfigs": [
                f"arn:aws:s3:::aws-waf-logs-{ACCT}/edge"]}})
        }
    }  # fmt: skip
    return Account({"account": ACCT, "regions": ["eu-west-1"],
                    "calls": {"eu-west-1": region, GLOBAL: cloudfront}})  # fmt: skip


def test_guardduty_exports_and_waf_destinations_are_located():
    found = {(x.source, x.producer): x for x in locations(inventory("waf/")) if x.kind == "s3"}
    export = found[("guardduty", "d1")]
    assert (export.bucket, export.prefix) == (
        "findings-archive",
        f"guardduty/AWSLogs/{ACCT}/GuardDuty/eu-west-1/",
    )
    assert export.kms_key == f"arn:aws:kms:eu-west-1:{ACCT}:key/k1"
    direct = found[("waf", "shop")]
    assert (direct.bucket, direct.prefix) == (
        f"aws-waf-logs-{ACCT}",
        f"AWSLogs/{ACCT}/WAFLogs/eu-west-1/shop/",
    )
    streamed = found[("waf", "shop via aws-waf-logs-shop")]
    assert (streamed.bucket, streamed.prefix, streamed.undated) == ("central-logs", "waf/", None)
    edge = found[("waf", "edge")]  # CloudFront web ACLs log under the "cloudfront" Region
    assert edge.prefix == f"edge/AWSLogs/{ACCT}/WAFLogs/cloudfront/edge/"


def test_day_folders_of_exports_waf_and_firehose():
    day = Window(datetime(2024, 5, 14, 8, tzinfo=UTC), datetime(2024, 5, 14, 12, tzinfo=UTC))
    found = {(x.source, x.producer): x for x in locations(inventory("waf/")) if x.kind == "s3"}
    assert day_prefixes(found[("guardduty", "d1")], day, []) == [
        f"guardduty/AWSLogs/{ACCT}/GuardDuty/eu-west-1/2024/05/14/"
    ]
    assert day_prefixes(found[("waf", "shop")], day, []) == [
        f"AWSLogs/{ACCT}/WAFLogs/eu-west-1/shop/2024/05/14/"
    ]
    assert day_prefixes(found[("waf", "shop via aws-waf-logs-shop")], day, []) == [
        "waf/2024/05/14/"
    ]
    # Firehose names objects with their delivery time
    assert in_window("waf/2024/05/14/09/aws-waf-logs-shop-1-2024-05-14-09-05-00-ab12", day)
    assert not in_window("waf/2024/05/14/13/aws-waf-logs-shop-1-2024-05-14-13-05-00-ab12", day)


def test_a_firehose_prefix_with_expressions_is_listed_whole():
    """``!{timestamp:...}`` makes the stream's own date folders: the fixed part is listed and
    objects are kept by the time in their names."""
    custom = "waf/!{timestamp:yyyy}/!{timestamp:MM}/"
    [streamed] = [x for x in locations(inventory(custom)) if "via" in x.producer]
    assert (streamed.prefix, streamed.undated) == ("waf/", True)
    day = Window(datetime(2024, 5, 14, 8, tzinfo=UTC), datetime(2024, 5, 16, 12, tzinfo=UTC))
    assert day_prefixes(streamed, day, []) == ["waf/"]
