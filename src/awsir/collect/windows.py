"""Which keys and events belong to a time window, from each source's documented layout.

AWS writes most logs under date folders in UTC (``.../2024/05/14/``) and names each object with
its delivery time (``..._20240514T0905Z_...``). An event at time T lands in an object delivered
after T, up to the source's delivery delay (the catalog's ``delivery.max_minutes``), so a window
[start, end] asks for the days from start to end + delay, and keeps the objects delivered in
[start, end + delay]. Sources without a documented bound get :data:`UNBOUNDED_MINUTES`.
Key layouts: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html,
https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html#server-log-keyname-format,
https://docs.aws.amazon.com/config/latest/developerguide/config-concepts.html#config-history,
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs-choosing-target-resource.html,
https://docs.aws.amazon.com/waf/latest/developerguide/logging-s3.html,
https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_exportfindings.html,
https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html (``YYYY/MM/DD/HH/`` and object
names ``<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<id>``)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from awsir.readiness.locations import Location

UNBOUNDED_MINUTES = 24 * 60
"""The delay assumed for sources AWS gives no bound for (a day: S3 access logs are best effort)."""
_KEY_TIME = re.compile(  # 20240514T0905Z (logs), 20240514T100000Z (digests), S3 access logs
    r"(?<!\d)(\d{8}T\d{4})(?:\d{2})?Z(?!\d)|(?<!\d)(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})(?!\d)"
)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must carry a time zone (UTC)")
        if self.end < self.start:
            raise ValueError("the window ends before it starts")

    def widened(self, minutes: int | None) -> Window:
        """The window of delivery times: events up to ``end`` arrive until end + delay."""
        delay = UNBOUNDED_MINUTES if minutes is None else minutes
        return Window(self.start, self.end + timedelta(minutes=delay))

    def days(self) -> list[date]:
        day, last, found = self.start.date(), self.end.date(), []
        while day <= last:
            found.append(day)
            day += timedelta(days=1)
        return found

    def ms(self) -> tuple[int, int]:
        return int(self.start.timestamp() * 1000), int(self.end.timestamp() * 1000)


def parse_time(text: str) -> datetime:
    """ISO 8601; UTC when no offset is given."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def day_prefixes(location: Location, window: Window, regions: list[str]) -> list[str]:
    """The S3 prefixes that hold the location's objects of the window's days. A ``*`` segment
    stands for every child folder (a VPC id, an organization id), listed when collecting."""
    base = location.prefix or ""
    if location.undated:  # no date folders: every object, kept or not by its name's time
        return [base]
    found: list[str] = []
    for day in window.days():
        y, m, d = f"{day:%Y}", f"{day:%m}", f"{day:%d}"
        if location.source in ("cloudtrail_trail", "cloudtrail_digest"):
            tail = [f"{r}/{y}/{m}/{d}/" for r in regions]
            folder = "CloudTrail" if location.source == "cloudtrail_trail" else "CloudTrail-Digest"
            if base.rstrip("/").endswith("AWSLogs"):  # an organization trail: AWSLogs/o-id/acct/
                found += [f"{base}*/{location.account}/{folder}/{t}" for t in tail]
            else:
                found += [base + t for t in tail]
        elif location.source == "config":
            found.append(f"{base}{day.year}/{day.month}/{day.day}/")  # not zero-padded
        elif location.source == "route53_resolver_query":
            found.append(f"{base}*/{y}/{m}/{d}/")  # one folder per VPC
        elif location.source == "cloudfront_standard":
            found.append(f"{base}{y}-{m}-{d}-")  # <prefix><distribution>.yyyy-mm-dd-HH.id.gz
        elif location.source == "s3_access":
            found.append(f"{base}{y}-{m}-{d}-")  # simple keys: PREFIX + yyyy-mm-dd-HH-MM-SS-id
            found.append(f"{base}*/*/*/{y}/{m}/{d}/")  # partitioned: acct/region/bucket/date
        else:  # flow logs, load balancers, WAF, GuardDuty exports, Firehose: date folders
            found.append(f"{base}{y}/{m}/{d}/")
    return list(dict.fromkeys(found))


def delivered(key: str) -> datetime | None:
    """When AWS wrote an object, from its name (None when the name does not say)."""
    found = _KEY_TIME.search(key.rsplit("/", 1)[-1])
    if not found:
        return None
    if found.group(1):
        return datetime.strptime(found.group(1), "%Y%m%dT%H%M").replace(tzinfo=UTC)
    return datetime.strptime(found.group(2), "%Y-%m-%d-%H-%M-%S").replace(tzinfo=UTC)


def in_window(key: str, window: Window) -> bool:
    """Whether an object listed under a day prefix belongs to the (widened) window; objects
    whose name gives no time are kept (their day folder put them in)."""
    when = delivered(key)
    if when is None:
        return True
    # names carry minutes: the object of minute M holds events of that minute
    return window.start - timedelta(minutes=1) <= when <= window.end
