"""What the CloudTrail checks share: the trails a Region sees, and what each one records.

https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html
"""

from __future__ import annotations

from typing import Any

from awsir.readiness.model import Account, Answer


def trails(account: Account, region: str) -> Answer:
    """DescribeTrails as seen from ``region``: its own trails and the shadows of multi-Region
    and organization trails homed elsewhere."""
    return account.answer(region, "cloudtrail.DescribeTrails")


def home_trails(account: Account, region: str) -> list[dict[str, Any]]:
    """The trails whose home is ``region`` (each trail is checked once, where it lives)."""
    listed = trails(account, region).get("trailList") or []
    return [t for t in listed if t.get("HomeRegion", region) == region]


def covers(trail: dict[str, Any], region: str) -> bool:
    return bool(trail.get("IsMultiRegionTrail")) or trail.get("HomeRegion") == region


def detail(account: Account, trail: dict[str, Any], call: str) -> Answer:
    """GetTrailStatus / GetEventSelectors / GetInsightSelectors of a trail, asked in its home
    Region."""
    home = trail.get("HomeRegion", "")
    found = account.each(home, call).get(trail["TrailARN"])
    if found is None:
        reason = "its home Region was not scanned" if home not in account.regions else "not asked"
        return Answer(
            None, {"code": "NotCollected", "message": f"{call} of {trail['Name']}: {reason}"}
        )
    return found


def records_all_management_events(selectors: Answer) -> bool:
    """True when the selectors log management events, read and write, from every service.

    Basic selectors: IncludeManagementEvents with ReadWriteType All, no excluded sources.
    Advanced ones: a selector on eventCategory Management with no readOnly or eventSource
    filter. A trail without selectors logs all management events (the default)."""
    basic = selectors.get("EventSelectors")
    advanced = selectors.get("AdvancedEventSelectors")
    if not basic and not advanced:
        return True
    for selector in basic or []:
        if (
            selector.get("IncludeManagementEvents", True)
            and selector.get("ReadWriteType", "All") == "All"
            and not selector.get("ExcludeManagementEventSources")
        ):
            return True
    for selector in advanced or []:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
        category = fields.get("eventCategory", {})
        if "Management" in (category.get("Equals") or []) and not (
            {"readOnly", "eventSource"} & set(fields)
        ):
            return True
    return False
