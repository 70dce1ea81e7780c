"""Read evidence out of AWS, as received: S3 objects (ListObjectsV2, GetObject), CloudWatch
Logs events (FilterLogEvents), CloudTrail event history (LookupEvents), GuardDuty and Security
Hub findings (ListFindings/GetFindings). Only read calls. Every object is hashed while it is
written, to a ``.part`` file that becomes the evidence file only once complete; the file is then
made read-only. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


@dataclass(frozen=True)
class Fetched:
    sha256: str
    size: int
    etag: str | None
    version_id: str | None
    metadata: dict[str, str] | None = None  # S3 user metadata (a digest's signature)


def list_keys(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """Objects under ``prefix``; a ``*`` path segment stands for every child folder."""
    head, star, tail = prefix.partition("*/")
    if not star:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if not item["Key"].endswith("/"):
                    yield item
        return
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=head, Delimiter="/")
    for page in pages:
        for child in page.get("CommonPrefixes", []):
            yield from list_keys(s3, bucket, child["Prefix"] + tail)


def _finish(part: Path, target: Path) -> None:
    with part.open("rb") as fh:
        os.fsync(fh.fileno())
    part.chmod(READ_ONLY)
    part.replace(target)  # all or nothing: the evidence file appears complete


def fetch_object(s3: Any, bucket: str, key: str, target: Path) -> Fetched:
    """Save one object as received; the SHA-256 of its bytes, size, ETag and version."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    answer = s3.get_object(Bucket=bucket, Key=key)
    digest, size = hashlib.sha256(), 0
    with part.open("wb") as fh:
        for chunk in answer["Body"].iter_chunks(CHUNK):
            digest.update(chunk)
            fh.write(chunk)
            size += len(chunk)
    _finish(part, target)
    return Fetched(digest.hexdigest(), size, (answer.get("ETag") or "").strip('"') or None,
                   answer.get("VersionId"), answer.get("Metadata") or None)  # fmt: skip


def fetch_log_events(
    logs: Any, group: str, start_ms: int, end_ms: int, owner: str, target: Path
) -> tuple[Fetched, int]:
    """The group's events of the window, saved as CloudWatch Logs subscription messages
    (``DATA_MESSAGE``, one JSON object per line, per stream and page): the shape AWS itself
    delivers, which keeps group, stream, event id and timestamp, and which ``awsir ingest``
    reads. Returns the file's hash and the number of events."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    digest, size, count = hashlib.sha256(), 0, 0
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=start_ms, endTime=end_ms
    )
    with part.open("wb") as fh:
        for page in pages:
            by_stream: dict[str, list[dict[str, Any]]] = {}
            for event in page.get("events", []):
                by_stream.setdefault(event.get("logStreamName", ""), []).append(
                    {
                        "id": event.get("eventId"),
                        "timestamp": event.get("timestamp"),
                        "message": event.get("message", ""),
                    }
                )
            for stream, events in by_stream.items():
                line = json.dumps({"messageType": "DATA_MESSAGE", "owner": owner,
                                   "logGroup": group, "logStream": stream,
                                   "subscriptionFilters": ["awsir-collect"],
                                   "logEvents": events}, separators=(",", ":"))  # fmt: skip
                data = (line + "\n").encode("utf-8")
                digest.update(data)
                fh.write(data)
                size += len(data)
                count += len(events)
    _finish(part, target)
    return Fetched(digest.hexdigest(), size, None, None), count


@contextmanager
def raw_responses(client: Any, operations: tuple[str, ...]) -> Iterator[list[tuple[str, bytes]]]:
    """The HTTP response bodies of ``client``'s calls of ``operations``, byte for byte as AWS
    sent them (botocore's ``after-call`` event), as ``(operation, body)`` in call order: the
    evidence as received, kept beside the document built from the parsed pages. The client must
    not be used by another thread meanwhile.
    https://boto3.amazonaws.com/v1/documentation/api/latest/guide/events.html"""
    bodies: list[tuple[str, bytes]] = []
    service = client.meta.service_model.service_id.hyphenize()
    handlers = []
    for operation in operations:

        def keep(http_response: Any, operation: str = operation, **_: Any) -> None:
            bodies.append((operation, bytes(http_response.content)))

        client.meta.events.register(f"after-call.{service}.{operation}", keep)
        handlers.append((f"after-call.{service}.{operation}", keep))
    try:
        yield bodies
    finally:
        for event, handler in handlers:
            client.meta.events.unregister(event, handler)


def save_bytes(data: bytes, target: Path) -> Fetched:
    """Write ``data`` as an evidence file (whole or not at all, then read-only)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    part.write_bytes(data)
    _finish(part, target)
    return Fetched(hashlib.sha256(data).hexdigest(), len(data), None, None)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Pace:
    """At most ``per_second`` calls per second (CloudTrail LookupEvents allows 2 per account
    and Region: https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html)."""

    def __init__(self, per_second: float) -> None:
        self.gap = 1.0 / per_second
        self.last = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now - self.last < self.gap:
            time.sleep(self.gap - (now - self.last))
        self.last = time.monotonic()


def _write_json(document: dict[str, Any], target: Path) -> Fetched:
    data = json.dumps(document, default=str, separators=(",", ":")).encode("utf-8")
    return save_bytes(data, target)


def lookup_events(client: Any, start: datetime, end: datetime, target: Path) -> tuple[Fetched, int]:
    """CloudTrail event history of the window, every page, at 2 requests/s, saved as
    ``aws cloudtrail lookup-events`` prints it (``{"Events": [...]}``, which ingest reads)."""
    pace, events, token = _Pace(2), [], None
    while True:
        pace.wait()
        params: dict[str, Any] = {"StartTime": start, "EndTime": end, "MaxResults": 50}
        if token:
            params["NextToken"] = token
        page = client.lookup_events(**params)
        events.extend(page.get("Events", []))
        token = page.get("NextToken")
        if not token:
            break
    return _write_json({"Events": events}, target), len(events)


def securityhub_findings(
    client: Any, start: datetime, end: datetime, target: Path
) -> tuple[Fetched, int]:
    """Security Hub findings updated in the window (GetFindings output, ``{"Findings": [...]}``)."""
    window = {"UpdatedAt": [{"Start": start.isoformat(), "End": end.isoformat()}]}
    findings = [f for page in client.get_paginator("get_findings").paginate(Filters=window)
                for f in page.get("Findings", [])]  # fmt: skip
    return _write_json({"Findings": findings}, target), len(findings)


def guardduty_findings(
    client: Any, detector: str, start: datetime, end: datetime, target: Path
) -> tuple[Fetched, int]:
    """GuardDuty findings updated in the window (ListFindings, then GetFindings 50 at a time;
    ``{"Findings": [...]}`` as the API returns them)."""
    criterion = {"updatedAt": {"GreaterThanOrEqual": int(start.timestamp() * 1000),
                               "LessThanOrEqual": int(end.timestamp() * 1000)}}  # fmt: skip
    pages = client.get_paginator("list_findings").paginate(
        DetectorId=detector, FindingCriteria={"Criterion": criterion}
    )
    ids = [i for page in pages for i in page.get("FindingIds", [])]
    findings = []
    for k in range(0, len(ids), 50):
        findings += client.get_findings(DetectorId=detector, FindingIds=ids[k : k + 50]).get(
            "Findings", []
        )
    return _write_json({"Findings": findings}, target), len(findings)


def public_keys(client: Any, start: datetime, end: datetime) -> dict[str, bytes]:
    """CloudTrail's public keys valid in [start, end] for the client's Region: fingerprint ->
    DER-encoded RSA key (cloudtrail:ListPublicKeys)."""
    found: dict[str, bytes] = {}
    params: dict[str, Any] = {"StartTime": start, "EndTime": end}
    while True:
        page = client.list_public_keys(**params)
        for key in page.get("PublicKeyList", []):
            found[key["Fingerprint"]] = key["Value"]
        if not page.get("NextToken"):
            return found
        params["NextToken"] = page["NextToken"]


def config_history(
    client: Any, resource_type: str, resource_id: str, start: datetime, end: datetime, target: Path
) -> tuple[Fetched, int]:
    """AWS Config's configuration items of one resource in the window (what it looked like, and
    each change), saved as ``{"configurationItems": [...]}``, the shape of Config's history
    files (which ingest reads).
    https://docs.aws.amazon.com/config/latest/APIReference/API_GetResourceConfigHistory.html"""
    pages = client.get_paginator("get_resource_config_history").paginate(
        resourceType=resource_type, resourceId=resource_id, earlierTime=start, laterTime=end
    )
    items = [i for page in pages for i in page.get("configurationItems", [])]
    return _write_json({"configurationItems": items}, target), len(items)
