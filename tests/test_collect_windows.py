"""Key layouts of the window's days, per source (pure: no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from awsir.collect.windows import Window, day_prefixes, delivered, in_window, parse_time
from awsir.readiness.locations import Location

W = Window(datetime(2024, 5, 14, 22, tzinfo=UTC), datetime(2024, 5, 15, 1, tzinfo=UTC))


def loc(source: str, prefix: str) -> Location:
    return Location(source, "111122223333", "us-east-1", "s3", "x", bucket="b", prefix=prefix)


@pytest.mark.parametrize(("source", "prefix", "expected"), [
    ("cloudtrail_trail", "AWSLogs/111122223333/CloudTrail/",
     ["AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/14/",
      "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/14/"]),
    ("cloudtrail_trail", "logs/AWSLogs/",  # an organization trail: the org id is listed
     ["logs/AWSLogs/*/111122223333/CloudTrail/us-east-1/2024/05/14/",
      "logs/AWSLogs/*/111122223333/CloudTrail/eu-west-1/2024/05/14/"]),
    ("cloudtrail_digest", "AWSLogs/111122223333/CloudTrail-Digest/",
     ["AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/14/",
      "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/05/14/"]),
    ("vpc_flow", "AWSLogs/111122223333/vpcflowlogs/us-east-1/",
     ["AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/14/"]),
    ("config", "AWSLogs/111122223333/Config/us-east-1/",
     ["AWSLogs/111122223333/Config/us-east-1/2024/5/14/"]),  # not zero-padded
    ("route53_resolver_query", "AWSLogs/111122223333/vpcdnsquerylogs/",
     ["AWSLogs/111122223333/vpcdnsquerylogs/*/2024/05/14/"]),  # a folder per VPC
    ("s3_access", "access/", ["access/2024-05-14-", "access/*/*/*/2024/05/14/"]),
    ("cloudfront_standard", "cf/E2ABC.", ["cf/E2ABC.2024-05-14-"]),
])  # fmt: skip
def test_day_prefixes_follow_each_source_layout(source, prefix, expected):
    first_day = Window(W.start, W.start)
    assert day_prefixes(loc(source, prefix), first_day, ["us-east-1", "eu-west-1"]) == expected


def test_a_window_spans_every_day_it_touches_and_is_widened_by_the_delay():
    prefixes = day_prefixes(loc("vpc_flow", "p/"), W, [])
    assert prefixes == ["p/2024/05/14/", "p/2024/05/15/"]
    assert W.widened(20).end == datetime(2024, 5, 15, 1, 20, tzinfo=UTC)
    assert W.widened(None).end == datetime(2024, 5, 16, 1, tzinfo=UTC)  # no bound: a day


def test_objects_are_kept_by_the_time_their_name_gives():
    assert delivered("a/111_CloudTrail_us-east-1_20240514T2305Z_x.json.gz") == datetime(
        2024, 5, 14, 23, 5, tzinfo=UTC)  # fmt: skip
    assert delivered("d/111_CloudTrail-Digest_us-east-1_t_us-east-1_20240515T000000Z.json.gz")
    assert delivered("access/2024-05-14-23-05-10-7E2A1B3C4D5E6F70")
    assert delivered("cf/E2ABC.2024-05-14-23.a1b2c3.gz") is None  # hour only: the day decides
    assert in_window("x_20240514T2305Z_y.gz", W) and not in_window("x_20240514T2130Z_y.gz", W)
    assert in_window("no-time-in-this-name.gz", W)


def test_window_bounds_are_checked():
    with pytest.raises(ValueError, match="ends before"):
        Window(W.end, W.start)
    assert parse_time("2024-05-14T08:00") == datetime(2024, 5, 14, 8, tzinfo=UTC)
    assert parse_time("2024-05-14T10:00+02:00") == datetime(2024, 5, 14, 8, tzinfo=UTC)
