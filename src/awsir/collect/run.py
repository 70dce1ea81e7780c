"""``awsir collect``: gather a window's evidence from the log locations into a case, with a
chain of custody.

Layout, under the case folder::

    evidence/s3/<bucket>/<key>                       S3 objects as received (read-only)
    evidence/logs/<account>/<region>/<group>/<start>_<end>.jsonl
                                                     CloudWatch Logs events (DATA_MESSAGE lines)
    evidence/api/<account>/<region>/<what>/<kind>_<start>_<end>.json
                                                     CloudTrail event history, GuardDuty and
                                                     Security Hub findings, as the APIs return
                                                     them (lookup-events / get-findings JSON)
    evidence/manifest.jsonl                          one line per item: source URI, version id,
                                                     ETag, size, SHA-256, retrieval time, caller
    evidence/reports/collect-<time>.json and .md     what was collected, from where, by whom,
                                                     and what could not be (with reasons)

An item already in the manifest (same URI and ETag) whose file is still there is not fetched
again, so an interrupted collection resumes and a second run over the same window adds only
what is new; files are written whole or not at all (``.part``, then renamed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from awsir.aws.inventory import describe_error
from awsir.catalog import load_catalog
from awsir.collect.windows import Window, day_prefixes, in_window
from awsir.paths import inside
from awsir.readiness.locations import Location

EVIDENCE = "evidence"
API_KINDS = {
    "cloudtrail:LookupEvents": "cloudtrail_lookup_events",
    "guardduty:GetFindings": "guardduty_findings",
    "securityhub:GetFindings": "securityhub_findings",
}
"""Events kept by the services themselves, and the item kind that fetches them."""
SERVICE = {"cloudwatch_logs": "logs", "cloudtrail_lookup_events": "cloudtrail",
           "guardduty_findings": "guardduty", "securityhub_findings": "securityhub",
           "config_history": "config"}  # fmt: skip
MANIFEST = "manifest.jsonl"
WORKERS = 8


@dataclass
class Item:
    """One thing to fetch: an S3 object or a log group's window."""

    kind: str
    uri: str
    location: Location
    path: Path
    etag: str | None = None
    key: str | None = None


@dataclass
class Collected:
    evidence: Path
    fetched: list[dict[str, Any]] = field(default_factory=list)
    already: int = 0  # in the manifest from an earlier run
    problems: list[str] = field(default_factory=list)
    not_collected: list[str] = field(default_factory=list)  # locations this version skips
    report: Path | None = None


def _delays() -> dict[str, int | None]:
    return {s.id: s.card.delivery.max_minutes for s in load_catalog().sources.values()}


def _safe(name: str) -> str:
    return inside(re.sub(r"[^A-Za-z0-9._/#-]", "_", name).strip("/"))


def manifest_entries(evidence: Path) -> list[dict[str, Any]]:
    path = evidence / MANIFEST
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entries.append(json.loads(line))
    return entries


def plan(
    session: Any, locations: list[Location], window: Window, regions: dict[str, list[str]],
    evidence: Path, problems: list[str],
) -> tuple[list[Item], list[str]]:  # fmt: skip
    """What to fetch: the in-window objects of each S3 location, each log group's window."""
    from awsir.aws.fetch import list_keys

    delays = _delays()
    items: dict[str, Item] = {}
    skipped: list[str] = []
    s3 = session.client("s3")
    for location in locations:
        delivered = window.widened(delays.get(location.source))
        if location.kind == "s3" and location.bucket:
            for prefix in day_prefixes(location, delivered, regions.get(location.account, [])):
                try:
                    for obj in list_keys(s3, location.bucket, prefix):
                        if not in_window(obj["Key"], delivered):
                            continue
                        uri = f"s3://{location.bucket}/{obj['Key']}"
                        path = evidence / "s3" / inside(location.bucket, obj["Key"])
                        etag = obj.get("ETag", "").strip('"')
                        items.setdefault(uri, Item("s3", uri, location, path, etag, obj["Key"]))
                except (ClientError, BotoCoreError) as exc:
                    problems.append(f"s3://{location.bucket}/{prefix}: {describe_error(exc)}")
                    break
        elif location.kind == "cloudwatch_logs" and location.log_group:
            start, end = window.ms()
            uri = (f"cloudwatch-logs://{location.account}/{location.region}/"
                   f"{location.log_group}?start={start}&end={end}")  # fmt: skip
            name = f"{window.start:%Y%m%dT%H%M%SZ}_{window.end:%Y%m%dT%H%M%SZ}.jsonl"
            path = (evidence / "logs" / location.account / location.region
                    / _safe(location.log_group) / name)  # fmt: skip
            items.setdefault(uri, Item("cloudwatch_logs", uri, location, path))
        elif location.kind == "api" and location.api in API_KINDS:
            kind = API_KINDS[location.api]
            start, end = window.ms()
            uri = (f"{kind.replace('_', '-')}://{location.account}/{location.region}/"
                   f"{location.producer}?start={start}&end={end}")  # fmt: skip
            name = f"{kind}_{window.start:%Y%m%dT%H%M%SZ}_{window.end:%Y%m%dT%H%M%SZ}.json"
            path = (
                evidence
                / "api"
                / location.account
                / location.region
                / _safe(location.producer)
                / name
            )
            items.setdefault(uri, Item(kind, uri, location, path))
        else:
            skipped.append(f"{location.source} {location.kind} {location.api or location.producer}"
                           f" ({location.region}): not collected by this version")  # fmt: skip
    return list(items.values()), skipped


def resource_items(
    resources: list[tuple[str, str, str]], account: str, window: Window, evidence: Path
) -> list[Item]:
    """AWS Config history of named resources: (type, id, Region) each."""
    items = []
    start, end = window.ms()
    stamp = f"{window.start:%Y%m%dT%H%M%SZ}_{window.end:%Y%m%dT%H%M%SZ}"
    for kind, rid, region in resources:
        where = Location("config", account, region, "api", f"{kind}={rid}",
                         api="config:GetResourceConfigHistory")  # fmt: skip
        uri = f"config-history://{account}/{region}/{kind}/{rid}?start={start}&end={end}"
        name = f"{_safe(kind).replace('/', '_')}_{_safe(rid).replace('/', '_')}_{stamp}.json"
        items.append(Item("config_history", uri, where, evidence / "api" / account / region
                          / "config" / name, key=f"{kind}={rid}"))  # fmt: skip
    return items


def collect(
    session: Any,
    case_root: Path,
    locations: list[Location],
    window: Window,
    regions: dict[str, list[str]],
    caller: str,
    on_item: Callable[[Item, dict[str, Any] | None], None] | None = None,
    resources: list[tuple[str, str, str]] | None = None,
) -> Collected:
    from awsir.aws.fetch import (
        config_history,
        fetch_log_events,
        fetch_object,
        guardduty_findings,
        lookup_events,
        securityhub_findings,
    )

    evidence = case_root / EVIDENCE
    evidence.mkdir(parents=True, exist_ok=True)
    result = Collected(evidence)
    items, result.not_collected = plan(session, locations, window, regions, evidence,
                                       result.problems)  # fmt: skip
    if resources:
        account = caller.split(":")[4] if caller.count(":") >= 5 else "unknown"
        items += resource_items(resources, account, window, evidence)
    done = {(e["uri"], e.get("etag")) for e in manifest_entries(evidence)
            if (case_root / e["path"]).exists()}  # fmt: skip
    todo = [i for i in items if (i.uri, i.etag) not in done]
    result.already = len(items) - len(todo)
    clients: dict[tuple[str, str], Any] = {}
    for item in todo:  # clients are made on one thread
        if item.kind in SERVICE:
            key = (SERVICE[item.kind], item.location.region)
            clients.setdefault(key, session.client(key[0], region_name=key[1]))
    s3 = session.client("s3")

    def fetch(item: Item) -> dict[str, Any] | None:
        events: int | None = None
        client = clients.get((SERVICE.get(item.kind, ""), item.location.region))
        try:
            if item.kind == "s3":
                assert item.location.bucket is not None and item.key is not None
                got = fetch_object(s3, item.location.bucket, item.key, item.path)
            elif item.kind == "cloudwatch_logs":
                assert item.location.log_group is not None
                start, end = window.ms()
                got, events = fetch_log_events(client, item.location.log_group, start, end,
                                               item.location.account, item.path)  # fmt: skip
            elif item.kind == "cloudtrail_lookup_events":
                got, events = lookup_events(client, window.start, window.end, item.path)
            elif item.kind == "config_history":
                kind, _, rid = (item.key or "=").partition("=")
                got, events = config_history(client, kind, rid, window.start, window.end,
                                             item.path)  # fmt: skip
            elif item.kind == "securityhub_findings":
                got, events = securityhub_findings(client, window.start, window.end, item.path)
            else:
                got, events = guardduty_findings(client, item.location.producer, window.start,
                                                 window.end, item.path)  # fmt: skip
        except (ClientError, BotoCoreError, OSError) as exc:
            result.problems.append(f"{item.uri}: {describe_error(exc)}")
            return None
        entry: dict[str, Any] = {
            "uri": item.uri, "kind": item.kind, "source": item.location.source,
            "account": item.location.account, "region": item.location.region,
            "path": item.path.relative_to(case_root).as_posix(), "etag": item.etag or got.etag,
            "version_id": got.version_id, "size": got.size, "sha256": got.sha256,
            "retrieved_at": datetime.now(UTC).isoformat(timespec="seconds"), "caller": caller,
        }  # fmt: skip
        if events is not None:
            entry["events"] = events
        if got.metadata:
            entry["metadata"] = got.metadata
        return entry

    with ThreadPoolExecutor(max_workers=WORKERS) as pool, \
            (evidence / MANIFEST).open("a", encoding="utf-8") as manifest:  # fmt: skip
        for item, entry in zip(todo, pool.map(fetch, todo), strict=True):
            if entry is not None:
                manifest.write(json.dumps(entry, sort_keys=True) + "\n")
                manifest.flush()  # the manifest never lists a file that is not complete
                result.fetched.append(entry)
            if on_item is not None:
                on_item(item, entry)
    result.report = _report(result, window, caller, case_root)
    return result


def _report(result: Collected, window: Window, caller: str, case_root: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = result.evidence / "reports"
    folder.mkdir(exist_ok=True)
    by_source: dict[str, dict[str, int]] = {}
    for entry in result.fetched:
        counts = by_source.setdefault(entry["source"], {"items": 0, "bytes": 0, "events": 0})
        counts["items"] += 1
        counts["bytes"] += entry["size"]
        counts["events"] += entry.get("events", 0)
    data = {
        "window": {"from": window.start.isoformat(), "to": window.end.isoformat()},
        "caller": caller, "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "fetched": len(result.fetched), "already_in_case": result.already,
        "by_source": by_source, "problems": result.problems, "not_collected": result.not_collected,
        "manifest": (result.evidence / MANIFEST).relative_to(case_root).as_posix(),
    }  # fmt: skip
    (folder / f"collect-{stamp}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    lines = [
        f"# Evidence collection {stamp}", "",
        f"- Window: {window.start.isoformat()} to {window.end.isoformat()}",
        f"- Collected by: {caller}",
        f"- New items: {len(result.fetched)}; already in the case: {result.already}",
        f"- Manifest: `{data['manifest']}` (SHA-256 of every item)", "",
        "| source | items | bytes | log events |", "|---|---:|---:|---:|",
        *(f"| {s} | {c['items']} | {c['bytes']} | {c['events']} |"
          for s, c in sorted(by_source.items())),
        "", "## Could not be collected", "",
        *(f"- {p}" for p in result.problems + result.not_collected), "",
    ]  # fmt: skip
    path = folder / f"collect-{stamp}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@dataclass
class Verified:
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def verify(case_root: Path) -> Verified:
    """Re-hash every item of the manifest: anything changed or missing is named."""
    from awsir.aws.fetch import sha256_file

    found = Verified()
    for entry in manifest_entries(case_root / EVIDENCE):
        path = case_root / entry["path"]
        found.checked += 1
        if not path.exists():
            found.missing.append(entry["path"])
        elif sha256_file(path) != entry["sha256"]:
            found.changed.append(entry["path"])
    return found
