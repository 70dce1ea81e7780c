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


@dataclass(frozen=True)
class Signer:
    """Credentials evidence is read with: the account they are in, the session, and the ARN
    the manifest names as the collector."""

    account: str
    session: Any
    caller: str


@dataclass
class Item:
    """One thing to fetch: an S3 object or a log group's window."""

    kind: str
    uri: str
    location: Location
    path: Path
    etag: str | None = None
    key: str | None = None
    signer: Signer | None = None  # who reads it (None: the first signer)


@dataclass
class Collected:
    evidence: Path
    fetched: list[dict[str, Any]] = field(default_factory=list)
    already: int = 0  # in the manifest from an earlier run
    problems: list[str] = field(default_factory=list)
    not_collected: list[str] = field(default_factory=list)  # locations this version skips
    report: Path | None = None
    raw: int = 0  # API responses kept as received


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


def _candidates(signers: list[Signer], account: str) -> list[Signer]:
    """Who to try for a location of ``account``: that account's own credentials, then the
    account signed in to, then the others (a central log bucket lives in another account)."""
    own = [s for s in signers if s.account == account]
    return own + [s for s in signers if s not in own]


DENIED = ("AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "NoSuchBucket")
"""Errors after which another account's credentials may still read the bucket."""


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def plan(
    signers: list[Signer], locations: list[Location], window: Window,
    regions: dict[str, list[str]], evidence: Path, problems: list[str],
) -> tuple[list[Item], list[str]]:  # fmt: skip
    """What to fetch: the in-window objects of each S3 location (read with the first
    credentials that may list its bucket), each log group's window, each API's window."""
    from awsir.aws.fetch import list_keys

    delays = _delays()
    items: dict[str, Item] = {}
    skipped: list[str] = []
    s3 = {s.account: s.session.client("s3") for s in signers}
    reader: dict[str, Signer] = {}  # bucket: the signer that could list it

    def listed(signer: Signer, location: Location, prefix: str) -> list[dict[str, Any]]:
        assert location.bucket is not None
        return list(list_keys(s3[signer.account], location.bucket, prefix))

    for location in locations:
        delivered = window.widened(delays.get(location.source))
        own = _candidates(signers, location.account)[0]
        if location.kind == "s3" and location.bucket:
            bucket = location.bucket
            for prefix in day_prefixes(location, delivered, regions.get(location.account, [])):
                order = (
                    [reader[bucket]] if bucket in reader else _candidates(signers, location.account)
                )
                found: list[dict[str, Any]] | None = None
                first_error: Exception | None = None
                for signer in order:
                    try:
                        found = listed(signer, location, prefix)
                        reader[bucket] = signer
                        break
                    except (ClientError, BotoCoreError) as exc:
                        first_error = first_error or exc
                        code = (
                            exc.response.get("Error", {}).get("Code", "")
                            if isinstance(exc, ClientError)
                            else ""
                        )
                        if code not in DENIED:
                            break
                if found is None:
                    assert first_error is not None
                    problems.append(f"s3://{bucket}/{prefix}: {describe_error(first_error)}")
                    break
                for obj in found:
                    if not in_window(obj["Key"], delivered):
                        continue
                    uri = f"s3://{bucket}/{obj['Key']}"
                    path = evidence / "s3" / inside(bucket, obj["Key"])
                    etag = obj.get("ETag", "").strip('"')
                    items.setdefault(
                        uri, Item("s3", uri, location, path, etag, obj["Key"], reader[bucket])
                    )
        elif location.kind == "cloudwatch_logs" and location.log_group:
            start, end = window.ms()
            uri = (f"cloudwatch-logs://{location.account}/{location.region}/"
                   f"{location.log_group}?start={start}&end={end}")  # fmt: skip
            name = f"{window.start:%Y%m%dT%H%M%SZ}_{window.end:%Y%m%dT%H%M%SZ}.jsonl"
            path = (evidence / "logs" / location.account / location.region
                    / _safe(location.log_group) / name)  # fmt: skip
            items.setdefault(uri, Item("cloudwatch_logs", uri, location, path, signer=own))
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
            items.setdefault(uri, Item(kind, uri, location, path, signer=own))
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
    signers: list[Signer],
    case_root: Path,
    locations: list[Location],
    window: Window,
    regions: dict[str, list[str]],
    on_item: Callable[[Item, dict[str, Any] | None], None] | None = None,
    resources: list[tuple[str, str, str]] | None = None,
    problems: list[str] | None = None,
) -> Collected:
    """Fetch the window's evidence of ``locations`` into the case (see the module docstring).
    ``signers``: the credentials to read with, the account signed in to first; with an
    organization, one per member account. ``problems`` found before (a member account whose
    role could not be assumed) go into the report."""
    from awsir.aws.fetch import fetch_object, raw_responses, save_bytes

    evidence = case_root / EVIDENCE
    evidence.mkdir(parents=True, exist_ok=True)
    result = Collected(evidence, problems=list(problems or []))
    items, result.not_collected = plan(signers, locations, window, regions, evidence,
                                       result.problems)  # fmt: skip
    if resources:
        items += resource_items(resources, signers[0].account, window, evidence)
    done = {(e["uri"], e.get("etag")) for e in manifest_entries(evidence)
            if (case_root / e["path"]).exists()}  # fmt: skip
    todo = [i for i in items if (i.uri, i.etag) not in done]
    result.already = len(items) - len(todo)
    s3 = {s.account: s.session.client("s3") for s in signers}
    clients: dict[str, Any] = {}
    for item in todo:  # clients are made on one thread; one per API item (its raw responses)
        if item.kind in SERVICE:
            signer = item.signer or signers[0]
            clients[item.uri] = signer.session.client(SERVICE[item.kind],
                                                      region_name=item.location.region)  # fmt: skip

    def fetch(item: Item) -> list[dict[str, Any]]:
        events: int | None = None
        signer = item.signer or signers[0]
        client = clients.get(item.uri)
        raw: list[tuple[str, bytes]] = []
        try:
            if item.kind == "s3":
                assert item.location.bucket is not None and item.key is not None
                got = fetch_object(s3[signer.account], item.location.bucket, item.key, item.path)
            else:
                with raw_responses(client, OPERATIONS[item.kind]) as raw:
                    got, events = _ask(item, client, window)
        except (ClientError, BotoCoreError, OSError) as exc:
            result.problems.append(f"{item.uri}: {describe_error(exc)}")
            return []
        now = datetime.now(UTC).isoformat(timespec="seconds")
        base: dict[str, Any] = {
            "kind": item.kind, "source": item.location.source,
            "account": item.location.account, "region": item.location.region,
            "retrieved_at": now, "caller": signer.caller,
        }  # fmt: skip
        entries = []
        pages = []
        for n, (operation, body) in enumerate(raw, 1):
            relative = item.path.relative_to(evidence).with_suffix("")
            page = evidence / RAW / relative / f"{n:04d}-{operation}.json"
            saved = save_bytes(body, page)
            pages.append(page.relative_to(case_root).as_posix())
            entries.append({**base, "uri": f"{item.uri}&response={n}", "kind": "api_response",
                            "operation": operation, "path": pages[-1], "etag": None,
                            "version_id": None, "size": saved.size,
                            "sha256": saved.sha256})  # fmt: skip
        entry: dict[str, Any] = {
            **base, "uri": item.uri, "path": item.path.relative_to(case_root).as_posix(),
            "etag": item.etag or got.etag, "version_id": got.version_id, "size": got.size,
            "sha256": got.sha256,
        }  # fmt: skip
        if events is not None:
            entry["events"] = events
        if got.metadata:
            entry["metadata"] = got.metadata
        if pages:
            entry["responses"] = pages  # the HTTP bodies this file was built from, as received
        return [*entries, entry]

    with ThreadPoolExecutor(max_workers=WORKERS) as pool, \
            (evidence / MANIFEST).open("a", encoding="utf-8") as manifest:  # fmt: skip
        for item, entries in zip(todo, pool.map(fetch, todo), strict=True):
            for entry in entries:  # responses first: the manifest never names a missing file
                manifest.write(json.dumps(entry, sort_keys=True) + "\n")
                manifest.flush()
            if entries:
                result.fetched.append(entries[-1])
                result.raw += len(entries) - 1
            if on_item is not None:
                on_item(item, entries[-1] if entries else None)
    result.report = _report(result, window, signers, case_root)
    return result


OPERATIONS = {
    "cloudwatch_logs": ("FilterLogEvents",),
    "cloudtrail_lookup_events": ("LookupEvents",),
    "guardduty_findings": ("ListFindings", "GetFindings"),
    "securityhub_findings": ("GetFindings",),
    "config_history": ("GetResourceConfigHistory",),
}
"""The API operations whose responses make each kind of item, kept as received."""
RAW = "raw"


def _ask(item: Item, client: Any, window: Window) -> tuple[Any, int]:
    from awsir.aws.fetch import (
        config_history,
        fetch_log_events,
        guardduty_findings,
        lookup_events,
        securityhub_findings,
    )

    if item.kind == "cloudwatch_logs":
        assert item.location.log_group is not None
        start, end = window.ms()
        return fetch_log_events(client, item.location.log_group, start, end,
                                item.location.account, item.path)  # fmt: skip
    if item.kind == "cloudtrail_lookup_events":
        return lookup_events(client, window.start, window.end, item.path)
    if item.kind == "config_history":
        kind, _, rid = (item.key or "=").partition("=")
        return config_history(client, kind, rid, window.start, window.end, item.path)
    if item.kind == "securityhub_findings":
        return securityhub_findings(client, window.start, window.end, item.path)
    return guardduty_findings(client, item.location.producer, window.start, window.end,
                              item.path)  # fmt: skip


def _report(result: Collected, window: Window, signers: list[Signer], case_root: Path) -> Path:
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
        "caller": signers[0].caller, "callers": {s.account: s.caller for s in signers},
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "fetched": len(result.fetched), "raw_responses": result.raw,
        "already_in_case": result.already,
        "by_source": by_source, "problems": result.problems, "not_collected": result.not_collected,
        "manifest": (result.evidence / MANIFEST).relative_to(case_root).as_posix(),
    }  # fmt: skip
    (folder / f"collect-{stamp}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    lines = [
        f"# Evidence collection {stamp}", "",
        f"- Window: {window.start.isoformat()} to {window.end.isoformat()}",
        *(f"- Collected by: {s.caller}" for s in signers),
        f"- New items: {len(result.fetched)} (and {result.raw} API responses kept as received, "
        f"under `{EVIDENCE}/{RAW}/`); already in the case: {result.already}",
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
