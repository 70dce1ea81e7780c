"""Parse AWS log files into typed tables, losslessly: every record is a row or a quarantine entry.

For each file (or archive member): recognise its table (or take ``--format``), split it into
string fields with the table's reader, convert them with one SQL SELECT, and hand rows and
quarantined records to a :class:`Sink`. A :class:`FileReport` per file gives the counts, which
always reconcile: ``records == rows + quarantined``; blank lines, headers and directives are
structure, counted apart as ``skipped``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from awsir.catalog import Catalog
from awsir.parse import cloudwatch, jsonread, parquet, quarantine
from awsir.parse.convert import ERROR, convert
from awsir.parse.delimited import LINE, DelimitedReader, Split
from awsir.parse.detect import detect, head_lines, head_of, is_awsir_output
from awsir.parse.jsonread import RECORD
from awsir.parse.pattern import read_pattern
from awsir.parse.quarantine import Quarantined
from awsir.parse.reading import Block, Member, blocks, members
from awsir.parse.spec import Envelope, Table

DOCUMENT_LIMIT = 1 << 30
GENERIC_TABLE = "cloudwatch_logs"


class Sink(Protocol):
    def rows(self, table: str, batch: pa.Table) -> None: ...
    def quarantine(self, batch: pa.Table) -> None: ...


@dataclass
class FileReport:
    file: str
    table: str | None = None
    rows: int = 0
    quarantined: int = 0
    skipped: int = 0
    problem: str | None = None

    @property
    def records(self) -> int:
        return self.rows + self.quarantined


class UnknownFormat(ValueError):
    """``--format`` names no source or table."""


def _generic(catalog: Catalog) -> tuple[str, Table]:
    return resolve_format(catalog, GENERIC_TABLE)


def resolve_format(catalog: Catalog, name: str) -> tuple[str, Table]:
    """A table by its name, or the only/first table of a source by the source id."""
    for source in catalog:
        tables = source.parse.tables if source.parse else {}
        if name in tables:
            return name, tables[name]
        if name == source.id and tables:
            first = next(iter(tables))
            return first, tables[first]
    known = sorted(t for s in catalog if s.parse for t in s.parse.tables)
    raise UnknownFormat(f"unknown format {name!r}; known: {', '.join(known)}")


def input_files(paths: list[Path]) -> Iterator[Path]:
    """Files named, and the files below folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def parse_files(
    paths: list[Path],
    catalog: Catalog,
    sink: Sink,
    *,
    format: str | None = None,
    fields: list[str] | None = None,
    threads: int | None = None,
) -> Iterator[FileReport]:
    """Parse every file under ``paths``; one report per file (or archive member).

    ``threads`` caps DuckDB's threads (the parallel runner gives each worker one core).
    """
    forced = resolve_format(catalog, format) if format else None
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    try:
        for path in input_files(paths):
            if not path.exists():
                yield FileReport(str(path), problem="no such file")
                continue
            if not path.is_file():  # a FIFO or device would block or never end
                yield FileReport(str(path), problem="not a regular file: not read")
                continue
            for member in members(path):
                yield from _parse_member(con, catalog, sink, member, forced, fields)
    finally:
        con.close()


def _parse_member(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    sink: Sink,
    member: Member,
    forced: tuple[str, Table] | None,
    fields: list[str] | None,
) -> list[FileReport]:
    report = FileReport(member.name)
    if member.path is not None and _is_parquet(member.path):
        return [_parquet(con, catalog, sink, member, forced, report)]
    stream = blocks(member)
    first = next(stream, None)
    if forced is None and first is not None and not is_awsir_output(head_of(first.data)):
        if cloudwatch.looks_like_subscription(first.data[:4096]):
            return _subscription(con, catalog, sink, member, _whole(member, first, stream), fields)
        wrapped = _envelope(catalog, first.data[:4096])
        if wrapped is not None:
            name, table, envelope = wrapped
            report.table = name
            data = _whole(member, first, stream)
            split = jsonread.enveloped(con, table, envelope, data, member.name)
            _emit(con, sink, report, table, split, {})
            report.problem = "; ".join(member.damage) or None
            return [report]
    if forced is None:
        found = detect(catalog, member.name, head_of(first.data) if first else [])
        if found is None and first is not None and cloudwatch.is_export(head_lines(first.data)):
            data = _whole(member, first, stream)
            inner = cloudwatch.strip_export(data)
            if detect(catalog, member.name, head_of(inner)) is not None:
                return _parse_member(con, catalog, sink, _virtual(member.name, inner), None, fields)
            stream_name = member.name.replace("\\", "/").rsplit("/", 2)[-2:][0]
            rows = cloudwatch.export_rows(data, stream_name)
            return _parse_member(
                con, catalog, sink, _virtual(member.name, rows), _generic(catalog), None
            )
        if found is None:
            if first is None:
                report.problem = "; ".join(member.damage) or "empty file"
                return [report]
            report.problem = "format not recognised (give --format)"
            _quarantine(sink, report, [Quarantined(member.name, None, report.problem, first.data)])
            return [report]
        forced = (found.table, found.spec)
    name, table = forced
    report.table = name
    reader = DelimitedReader(table, member.name, names=fields)
    if table.reader == "json_document":
        data = _whole(member, first, stream)
        _emit(con, sink, report, table, jsonread.json_document(con, table, data, member.name), {})
    else:
        for block in _chain(first, stream):
            if table.reader == "json_lines":
                split = jsonread.json_lines(con, table, block, member.name)
            elif table.reader == "pattern":
                split = read_pattern(con, table, block, member.name)
            else:
                split = reader.read(block)
            _emit(con, sink, report, table, split, {"block": block})
    if table.reader == "delimited" and reader.guessed:
        member.damage.append(
            f"no header line: assumed AWS's documented order of the first "
            f"{len(reader.names or [])} fields (use --fields to give the real order)"
        )
    if member.damage:
        report.problem = "; ".join(member.damage)
    return [report]


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == parquet.MAGIC


def _parquet(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    sink: Sink,
    member: Member,
    forced: tuple[str, Table] | None,
    report: FileReport,
) -> FileReport:
    assert member.path is not None
    try:
        columns = pq.read_schema(member.path).names
    except (pa.ArrowInvalid, OSError) as exc:
        report.problem = f"unreadable Parquet file: {exc}"
        _quarantine(sink, report, [Quarantined(member.name, None, report.problem, b"")])
        return report
    found = forced or parquet.find_table(catalog, columns)
    if found is None:
        report.problem = f"Parquet columns of no known table: {', '.join(columns[:8])}..."
        _quarantine(sink, report, [Quarantined(member.name, None, report.problem, b"")])
        return report
    report.table, table = found
    for split in parquet.read_parquet(member.path, table):
        _emit(con, sink, report, table, split, {})
    return report


def _whole(member: Member, first: Block | None, rest: Iterator[Block]) -> bytes:
    """The rest of a member in one piece (documents and wrappers), at most DOCUMENT_LIMIT."""
    parts, size = [first.data] if first else [], len(first.data) if first else 0
    for block in rest:
        parts.append(block.data)
        size += len(block.data)
        if size > DOCUMENT_LIMIT:
            member.damage.append(f"over {DOCUMENT_LIMIT >> 20} MB as one document: not read")
            return b""
    return b"".join(parts)


def _envelope(catalog: Catalog, head: bytes) -> tuple[str, Table, Envelope] | None:
    text = head.decode("utf-8", "replace")
    for source in catalog:
        for name, table in (source.parse.tables if source.parse else {}).items():
            for envelope in table.envelopes:
                if re.search(envelope.detect, text):
                    return name, table, envelope
    return None


def _subscription(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    sink: Sink,
    member: Member,
    data: bytes,
    fields: list[str] | None,
) -> list[FileReport]:
    """Each log stream of a CloudWatch Logs subscription payload, parsed as a file of its own."""
    found = cloudwatch.unwrap(data)
    reports = []
    if found.problems or found.control_messages:
        report = FileReport(member.name, GENERIC_TABLE, skipped=found.control_messages)
        if found.problems:
            report.problem = "; ".join(found.problems)
            _quarantine(sink, report, [Quarantined(member.name, None, report.problem, data)])
        reports.append(report)
    for stream, events in found.streams.items():
        text = "".join(f"{e['message']}\n" for e in events).encode()
        name = f"{member.name}!{stream}"
        if detect(catalog, name, head_of(text)) or _envelope(catalog, text[:4096]):
            reports += _parse_member(con, catalog, sink, _virtual(name, text), None, fields)
        else:  # application logs: kept as generic CloudWatch Logs events
            rows = cloudwatch.event_rows(events)
            reports += _parse_member(
                con, catalog, sink, _virtual(name, rows), _generic(catalog), None
            )
    return reports


def _virtual(name: str, data: bytes) -> Member:
    return Member(name, partial(io.BytesIO, data))


def _chain(first: Block | None, rest: Iterator[Block]) -> Iterator[Block]:
    if first is not None:
        yield first
    yield from rest


def _emit(
    con: duckdb.DuckDBPyConnection,
    sink: Sink,
    report: FileReport,
    table: Table,
    split: Split,
    context: dict[str, Block],
) -> None:
    report.skipped += split.skipped
    bad = list(split.quarantined)
    if split.strings is not None and split.strings.num_rows:
        typed = convert(con, report.table or "", table, split.strings, report.file, split.final)
        failed = pc.is_valid(typed.column(ERROR))
        if pc.any(failed).as_py():
            rejected = typed.filter(failed)
            numbers = rejected.column(LINE).to_pylist()
            if RECORD in rejected.column_names:
                raw = dict(zip(numbers, rejected.column(RECORD).to_pylist(), strict=True))
                raw = {n: (r or "").encode() for n, r in raw.items()}
            elif split.raw_of is not None:
                raw = {n: split.raw_of(n) for n in numbers}
            else:
                raw = _raw_lines(context.get("block"), numbers)
            for line, why in zip(numbers, rejected.column(ERROR).to_pylist(), strict=True):
                bad.append(Quarantined(report.file, line, why, raw.get(line, b"")))
            typed = typed.filter(pc.invert(failed))
        typed = typed.drop_columns([c for c in (ERROR, RECORD, LINE) if c in typed.column_names])
        if typed.num_rows:
            sink.rows(report.table or "", typed)
            report.rows += typed.num_rows
    _quarantine(sink, report, bad)


def _quarantine(sink: Sink, report: FileReport, entries: list[Quarantined]) -> None:
    if entries:
        sink.quarantine(quarantine.to_table(entries))
        report.quarantined += len(entries)


def _raw_lines(block: Block | None, wanted: list[int]) -> dict[int, bytes]:
    """The raw bytes of a few lines of a block (only for rows that failed conversion)."""
    if block is None:
        return {}
    lines = block.data.split(b"\n")
    return {
        n: lines[n - block.first_line] for n in wanted if 0 <= n - block.first_line < len(lines)
    }
