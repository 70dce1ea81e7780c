"""CloudWatch Logs as a transport: subscription payloads and export files carry any log format.

A subscription filter (to Firehose, Kinesis or Lambda) delivers JSON objects
``{"messageType": "DATA_MESSAGE", "logGroup", "logStream", "logEvents": [{"id", "timestamp",
"message"}]}``, gzip-compressed, sometimes concatenated with no separator (Firehose), sometimes
base64-encoded inside ``{"awslogs": {"data": ...}}`` (Lambda). ``CONTROL_MESSAGE`` objects only
check that the destination is reachable: they are counted and skipped.

The messages of each log stream become one virtual file whose lines are the messages, so the
usual detection and parsers read them (flow log lines, CloudTrail records, Route 53 lines...).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

_START = re.compile(rb'^\s*\{\s*"(messageType|awslogs|owner|logGroup)"')


@dataclass
class Unwrapped:
    """The log streams found in a subscription payload, and what was skipped."""

    streams: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    control_messages: int = 0
    problems: list[str] = field(default_factory=list)


def looks_like_subscription(head: bytes) -> bool:
    return (bool(_START.match(head)) and b"logEvents" in head) or b'"awslogs"' in head[:200]


def _objects(text: str) -> list[object]:
    """Every JSON value in ``text``: one, one per line, or several written back to back."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(text):
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        value, at = decoder.raw_decode(text, at)
        values.append(value)
    return values


def unwrap(data: bytes) -> Unwrapped:
    """The messages of a subscription payload, per ``logGroup/logStream``."""
    found = Unwrapped()
    try:
        values = _objects(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        found.problems.append(f"not a CloudWatch Logs subscription payload: {exc}")
        return found
    for value in values:
        if isinstance(value, dict) and isinstance(value.get("awslogs"), dict):
            try:
                packed = base64.b64decode(value["awslogs"].get("data", ""))
                value = json.loads(gzip.decompress(packed))
            except (ValueError, OSError, EOFError, zlib.error) as exc:
                found.problems.append(f"awslogs.data does not decode: {exc}")
                continue
        if not isinstance(value, dict):
            found.problems.append("a subscription payload entry is not a JSON object")
            continue
        if value.get("messageType") == "CONTROL_MESSAGE":
            found.control_messages += 1
            continue
        stream = f"{value.get('logGroup', '')}/{value.get('logStream', '')}"
        where = {k: value.get(k) for k in ("logGroup", "logStream", "owner")}
        events = found.streams.setdefault(stream, [])
        for event in value.get("logEvents") or []:
            if isinstance(event, dict) and isinstance(event.get("message"), str):
                events.append({**where, "id": event.get("id"), "timestamp": event.get("timestamp"),
                               "message": event["message"].replace("\n", " ")})  # fmt: skip
            else:
                found.problems.append(f"{stream}: a log event without a message")
    return found


_EXPORT = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ", re.MULTILINE)


def is_export(head_lines: list[str]) -> bool:
    """CloudWatch Logs export files (to S3) start every line with the event's ISO time."""
    return bool(head_lines) and all(_EXPORT.match(line.encode()) for line in head_lines)


def strip_export(data: bytes) -> bytes:
    """The messages of an export file, one per line (line numbers unchanged)."""
    return _EXPORT.sub(b"", data)


def export_rows(data: bytes, stream: str) -> bytes:
    """An export file as JSON lines of the generic cloudwatch_logs table."""
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        stamp, _, message = line.partition(" ")
        try:
            millis: int | None = int(datetime.fromisoformat(stamp).timestamp() * 1000)
        except ValueError:
            millis = None
        out.append(json.dumps({"logGroup": None, "logStream": stream, "timestamp": millis,
                               "message": message}))  # fmt: skip
    return ("\n".join(out) + "\n").encode()


def export_text(events: list[dict[str, object]]) -> bytes:
    """Subscription events as an export file writes them: ``ISO-TIME message`` per line, for
    formats whose messages carry no time of their own (API Gateway execution logs)."""
    lines = []
    for event in events:
        stamp = event.get("timestamp")
        if not isinstance(stamp, int | float) or isinstance(stamp, bool):
            return b""  # no time to give: the generic table keeps these events
        when = datetime.fromtimestamp(stamp / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        lines.append(f"{when}Z {event['message']}\n")
    return "".join(lines).encode()


def event_rows(events: list[dict[str, object]]) -> bytes:
    """Subscription events as JSON lines of the generic cloudwatch_logs table."""
    return "".join(json.dumps(e) + "\n" for e in events).encode()
