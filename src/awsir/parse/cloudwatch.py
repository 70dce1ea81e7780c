"""CloudWatch Logs as a transport: subscription payloads and export files carry any log format.

A subscription filter (to Firehose, Kinesis or Lambda) delivers JSON objects
``{"messageType": "DATA_MESSAGE", "logGroup", "logStream", "logEvents": [{"id", "timestamp",
"message"}]}``, gzip-compressed, sometimes concatenated with no separator (Firehose), sometimes
base64-encoded inside ``{"awslogs": {"data": ...}}`` (Lambda). ``CONTROL_MESSAGE`` objects only
check that the destination is reachable: they are counted and skipped.

The messages of each log stream become one virtual file whose lines are the messages, so the
usual detection and parsers read them (flow log lines, CloudTrail records, Route 53 lines...).
DuckDB reads the payloads (``read_json``, values back to back) and builds each stream's text in
one query: Firehose files carry hundreds of thousands of events, no Python loop touches them.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from awsir.parse.sql import literal

_START = re.compile(rb'^\s*\{\s*"(messageType|awslogs|owner|logGroup)"')


@dataclass
class Stream:
    """One log stream of a payload: its messages as a file (``text``, one per line; a
    message's own newlines become spaces), and its events for the other forms."""

    name: str  # logGroup/logStream
    text: bytes
    events: pa.Table  # logGroup, logStream, owner, id, timestamp, message: in payload order

    def stamped(self, con: duckdb.DuckDBPyConnection) -> bytes:
        """ "ISO-TIME message" lines, as an export writes them (b"" when a time is missing)."""
        return self._render(
            con,
            'CASE WHEN count("timestamp") = count(*) THEN string_agg(strftime('
            "epoch_ms(\"timestamp\"), '%Y-%m-%dT%H:%M:%S.%g') || 'Z ' || message || chr(10), '' "
            "ORDER BY k) ELSE '' END",
        )

    def rows(self, con: duckdb.DuckDBPyConnection) -> bytes:
        """JSON lines of the generic cloudwatch_logs table."""
        return self._render(
            con,
            "string_agg(to_json({'logGroup': logGroup, 'logStream': logStream, 'owner': owner, "
            "'id': id, 'timestamp': \"timestamp\", 'message': message}) || chr(10), '' "
            "ORDER BY k)",
        )

    def _render(self, con: duckdb.DuckDBPyConnection, aggregate: str) -> bytes:
        con.register("stream_events", self.events)
        try:
            [(text,)] = con.sql(
                f"SELECT coalesce({aggregate}, '') FROM (SELECT *, row_number() OVER () AS k "
                "FROM stream_events)"
            ).fetchall()
        finally:
            con.unregister("stream_events")
        return str(text).encode()


@dataclass
class Unwrapped:
    """The log streams found in a subscription payload, and what was skipped."""

    streams: list[Stream] = field(default_factory=list)
    control_messages: int = 0
    problems: list[str] = field(default_factory=list)


def looks_like_subscription(head: bytes) -> bool:
    return (bool(_START.match(head)) and b"logEvents" in head) or b'"awslogs"' in head[:200]


def _lambda_payloads(data: bytes, found: Unwrapped) -> bytes:
    """Lambda's form, ``{"awslogs": {"data": base64(gzip(payload))}}`` (one per event, so a
    handful per file), as the payloads it holds."""
    decoder, text, at, out = json.JSONDecoder(), data.decode("utf-8"), 0, []
    while at < len(text):
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        value, at = decoder.raw_decode(text, at)
        packed = value.get("awslogs", {}).get("data", "") if isinstance(value, dict) else None
        if not isinstance(packed, str):
            found.problems.append("a Lambda subscription event without awslogs.data")
            continue
        try:
            out.append(gzip.decompress(base64.b64decode(packed)))
        except (ValueError, OSError, EOFError, zlib.error) as exc:
            found.problems.append(f"awslogs.data does not decode: {exc}")
    return b"\n".join(out)


_EVENTS = 'STRUCT(id VARCHAR, "timestamp" BIGINT, message VARCHAR)[]'
_COLUMNS = {
    "messageType": "VARCHAR", "owner": "VARCHAR", "logGroup": "VARCHAR",
    "logStream": "VARCHAR", "logEvents": _EVENTS,
}  # fmt: skip


def unwrap(con: duckdb.DuckDBPyConnection, data: bytes) -> Unwrapped:
    """The messages of a subscription payload, per ``logGroup/logStream`` (in payload order)."""
    found = Unwrapped()
    try:
        if b'"awslogs"' in data[:200]:
            data = _lambda_payloads(data, found)
    except (UnicodeDecodeError, ValueError) as exc:
        found.problems.append(f"not a CloudWatch Logs subscription payload: {exc}")
        return found
    if not data.strip():
        return found
    columns = "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in _COLUMNS.items()) + "}"
    with tempfile.TemporaryDirectory(prefix="awsir-cwl-") as folder:
        path = Path(folder) / "payloads.json"
        path.write_bytes(data)
        try:
            table = con.sql(_UNWRAP_SQL.format(path=literal(str(path)), columns=columns))
            table = table.to_arrow_table()
            counts = con.sql(_COUNTS_SQL.format(path=literal(str(path)), columns=columns))
            found.control_messages, others, no_message = counts.fetchall()[0]
        except duckdb.Error as exc:
            why = str(exc).splitlines()[0]
            found.problems.append(f"not a CloudWatch Logs subscription payload: {why}")
            return found
    if others:
        found.problems.append(f"{others} payload(s) of no known messageType")
    if no_message:
        found.problems.append(f"{no_message} log event(s) without a message")
    if not table.num_rows:
        return found
    lines = table.column("line").combine_chunks()
    wide = pa.types.is_large_string(lines.type)
    ends = np.frombuffer(lines.buffers()[1], dtype=np.int64 if wide else np.int32)[lines.offset :]
    buffer = lines.buffers()[2]
    codes = pc.dictionary_encode(table.column("stream")).combine_chunks()
    starts = [0, *(np.flatnonzero(np.diff(codes.indices.to_numpy())) + 1).tolist()]
    for a, b in zip(starts, [*starts[1:], table.num_rows], strict=True):
        text = buffer[int(ends[a]) : int(ends[b])].to_pybytes()  # the lines, back to back
        name = table.column("stream")[a].as_py()
        found.streams.append(Stream(name, text, table.slice(a, b - a).drop_columns(["line"])))
    return found


_PAYLOADS = """
WITH p AS (
  SELECT *, row_number() OVER () AS pn FROM read_json({path}, format = 'unstructured',
    records = true, columns = {columns}, maximum_object_size = 1073741824)),
e AS (
  SELECT pn, logGroup, logStream, owner, unnest(logEvents) AS ev,
    generate_subscripts(logEvents, 1) AS en
  FROM p WHERE messageType = 'DATA_MESSAGE')
"""
# Events of each stream together, streams in order of first appearance, events in payload order.
_UNWRAP_SQL = (
    _PAYLOADS
    + """
SELECT stream, logGroup, logStream, owner, id, "timestamp", message, message || chr(10) AS line
FROM (
  SELECT coalesce(logGroup, '') || '/' || coalesce(logStream, '') AS stream, logGroup, logStream,
    owner, ev.id AS id, ev."timestamp" AS "timestamp",
    replace(ev.message, chr(10), ' ') AS message, pn, en
  FROM e WHERE ev.message IS NOT NULL)
ORDER BY min(pn) OVER (PARTITION BY stream), stream, pn, en
"""
)
_COUNTS_SQL = (
    _PAYLOADS
    + """
SELECT (SELECT count(*) FROM p WHERE messageType = 'CONTROL_MESSAGE'),
  (SELECT count(*) FROM p WHERE messageType IS DISTINCT FROM 'DATA_MESSAGE'
     AND messageType IS DISTINCT FROM 'CONTROL_MESSAGE'),
  (SELECT count(*) FROM e WHERE ev.message IS NULL)
"""
)

_EXPORT = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ", re.MULTILINE)


def is_export(head_lines: list[str]) -> bool:
    """CloudWatch Logs export files (to S3) start every line with the event's ISO time."""
    return bool(head_lines) and all(_EXPORT.match(line.encode()) for line in head_lines)


def strip_export(data: bytes) -> bytes:
    """The messages of an export file, one per line (line numbers unchanged)."""
    return _EXPORT.sub(b"", data)


def export_rows(con: duckdb.DuckDBPyConnection, data: bytes, stream: str) -> bytes:
    """An export file as JSON lines of the generic cloudwatch_logs table (one query)."""
    lines = pa.table({"line": pa.array(data.decode("utf-8", "replace").splitlines())})
    con.register("export_lines", lines)
    try:
        [(rows,)] = con.sql(
            "SELECT coalesce(encode(string_agg(to_json({'logGroup': NULL, 'logStream': "
            f"{literal(stream)}, 'timestamp': epoch_ms(try_cast(split_part(line, ' ', 1) "
            "AS TIMESTAMPTZ)), 'message': substr(line, strpos(line, ' ') + 1)}) || chr(10), '' "
            "ORDER BY n)), ''::BLOB) FROM (SELECT line, row_number() OVER () AS n "
            "FROM export_lines)"
        ).fetchall()
    finally:
        con.unregister("export_lines")
    return bytes(rows)
