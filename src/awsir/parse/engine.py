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
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from awsir.catalog import Catalog
from awsir.parse import cloudwatch, jsonread, parquet
from awsir.parse.batch import Batch, FileReport, Sink
from awsir.parse.delimited import DelimitedReader
from awsir.parse.detect import detect, head_lines, head_of, is_awsir_output
from awsir.parse.logfmt import read_logfmt
from awsir.parse.pattern import read_pattern
from awsir.parse.quarantine import Quarantined
from awsir.parse.reading import Block, Member, blocks, members
from awsir.parse.spec import Envelope, Table
from awsir.parse.template import TemplateError, is_template, template_keys

DOCUMENT_LIMIT = 1 << 30
GENERIC_TABLE = "cloudwatch_logs"


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


def check_fields(table: Table, fields: list[str] | None) -> None:
    """``--fields`` fits ``table``: field names for text formats, or a customer-defined JSON
    format (one string) for tables whose fields name their variables. Raises TemplateError."""
    if not fields:
        return
    if is_template(fields[0]):
        template_keys(fields[0], table)
    elif table.layout == "json":
        raise TemplateError(
            "--fields for a JSON format takes the format it was logged with, e.g. "
            '\'{"requestId": "$context.requestId", "ip": "$context.identity.sourceIp"}\''
        )


def input_files(paths: list[Path]) -> Iterator[Path]:
    """Files named, and everything but folders below folders named, in a stable order: a FIFO
    or a dangling link inside a folder is yielded too, so the reader reports it, never drops it."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if not p.is_dir())
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
    """Parse every file under ``paths``; one report per file (or archive member), handed out
    once all of its rows are written."""
    with Parser(catalog, sink, format=format, fields=fields, threads=threads) as parser:
        for path in input_files(paths):
            yield from parser.parse(path)
        yield from parser.finish()


class Parser:
    """Parses files one after another into ``sink``, converting their rows in batches
    (:mod:`awsir.parse.batch`). ``threads`` caps DuckDB's threads (the parallel runner gives
    each worker one core)."""

    def __init__(
        self,
        catalog: Catalog,
        sink: Sink,
        *,
        format: str | None = None,
        fields: list[str] | None = None,
        threads: int | None = None,
    ) -> None:
        self.catalog, self.fields = catalog, fields
        self.forced = resolve_format(catalog, format) if format else None
        if self.forced is not None:
            check_fields(self.forced[1], fields)
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.out = Batch(self.con, sink)
        self._waiting: list[FileReport] = []

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()

    def parse(self, path: Path, name: str | None = None) -> list[FileReport]:
        """Parse one file; the reports that are complete now (this file's or earlier ones).
        ``name`` is what rows, reports and quarantine call the file (default: its path), e.g.
        the S3 URI of a downloaded object; its S3 key layout is read from it too."""
        label = name or str(path)
        if not path.exists():
            self._waiting.append(FileReport(label, problem="no such file"))
        elif not path.is_file():  # a FIFO or device would block or never end
            self._waiting.append(FileReport(label, problem="not a regular file: not read"))
        else:
            for member in members(path, name):
                try:
                    self._waiting += _parse_member(
                        self.con, self.catalog, self.out, member, self.forced, self.fields
                    )
                except Exception as exc:  # noqa: BLE001 - a bug must not take other files' rows
                    self._failed(FileReport(member.name), exc)
        return self._ready()

    def finish(self) -> list[FileReport]:
        """Convert what is waiting; every report not handed out yet."""
        try:
            self.out.flush()
        except Exception as exc:  # noqa: BLE001 - reported per file, never lost
            self._failed(None, exc)
        ready, self._waiting = self._waiting, []
        return ready

    def _ready(self) -> list[FileReport]:
        ready = [r for r in self._waiting if not self.out.owes(r)]
        self._waiting = [r for r in self._waiting if self.out.owes(r)]
        return ready

    def _failed(self, report: FileReport | None, exc: Exception) -> None:
        """An internal error: this file, and the files whose rows were waiting, are reported as
        failed (their rows not written), and the run goes on."""
        hit = self.out.drop()
        if report is not None and all(r.file != report.file for r in hit):
            hit.append(report)
        for failed in hit:
            failed.problem = f"internal error: {exc!r}"
        self._waiting += [r for r in hit if all(r is not w for w in self._waiting)]


def _parse_member(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    out: Batch,
    member: Member,
    forced: tuple[str, Table] | None,
    fields: list[str] | None,
) -> list[FileReport]:
    report = FileReport(member.name)
    if member.path is not None and _is_parquet(member.path):
        return [_parquet(con, catalog, out, member, forced, report)]
    stream = blocks(member)
    first = next(stream, None)
    if first is not None and not is_awsir_output(head_of(first.data)):
        if forced is None and cloudwatch.looks_like_subscription(first.data[:4096]):
            return _subscription(con, catalog, out, member, _whole(member, first, stream), fields)
        # a forced table still reads its own wrappers (an array export given --format cloudtrail)
        wrapped = _envelope(catalog, first.data[:4096], forced)
        if wrapped is not None:
            name, table, envelope = wrapped
            report.table = name
            data = _whole(member, first, stream)
            split = jsonread.enveloped(con, table, envelope, data, member.name)
            out.add(report, table, split, None)
            report.problem = "; ".join(member.damage) or None
            return [report]
    if forced is None:
        found = detect(catalog, member.name, head_of(first.data) if first else [])
        if found is None and first is not None and cloudwatch.is_export(head_lines(first.data)):
            data = _whole(member, first, stream)
            inner = cloudwatch.strip_export(data)
            if detect(catalog, member.name, head_of(inner)) is not None:
                return _parse_member(con, catalog, out, _virtual(member.name, inner), None, fields)
            stream_name = member.name.replace("\\", "/").rsplit("/", 2)[-2:][0]
            rows = cloudwatch.export_rows(con, data, stream_name)
            return _parse_member(
                con, catalog, out, _virtual(member.name, rows), _generic(catalog), None
            )
        if found is None:
            if first is None:
                report.problem = "; ".join(member.damage) or "empty file"
                return [report]
            report.problem = "format not recognised (give --format)"
            out.quarantine(report, [Quarantined(member.name, None, report.problem, first.data)])
            return [report]
        forced = (found.table, found.spec)
    name, table = forced
    report.table = name
    keys = template_keys(fields[0], table) if fields and is_template(fields[0]) else None
    reader = DelimitedReader(table, member.name, names=None if keys else fields)
    if table.reader == "json_document":
        data = _whole(member, first, stream)
        split = jsonread.json_document(con, table, data, member.name)
        out.add(report, table, split, None, held=len(data))
    else:
        for block in _chain(first, stream):
            if table.reader == "json_lines":
                split = jsonread.json_lines(con, table, block, member.name, keys)
            elif table.reader == "pattern":
                split = read_pattern(con, table, block, member.name)
            elif table.reader == "logfmt":
                split = read_logfmt(con, table, block, member.name)
            else:
                split = reader.read(block)
            out.add(report, table, split, block)
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
    out: Batch,
    member: Member,
    forced: tuple[str, Table] | None,
    report: FileReport,
) -> FileReport:
    assert member.path is not None
    try:
        columns = pq.read_schema(member.path).names
    except (pa.ArrowInvalid, OSError) as exc:
        report.problem = f"unreadable Parquet file: {exc}"
        out.quarantine(report, [Quarantined(member.name, None, report.problem, b"")])
        return report
    found = forced or parquet.find_table(catalog, columns)
    if found is None:
        report.problem = f"Parquet columns of no known table: {', '.join(columns[:8])}..."
        out.quarantine(report, [Quarantined(member.name, None, report.problem, b"")])
        return report
    report.table, table = found
    for split in parquet.read_parquet(member.path, table):
        out.add(report, table, split, None)
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


def _envelope(
    catalog: Catalog, head: bytes, forced: tuple[str, Table] | None = None
) -> tuple[str, Table, Envelope] | None:
    text = head.decode("utf-8", "replace")
    tables = [forced] if forced else [
        (name, table) for source in catalog
        for name, table in (source.parse.tables if source.parse else {}).items()
    ]  # fmt: skip
    for name, table in tables:
        for envelope in table.envelopes:
            if re.search(envelope.detect, text):
                return name, table, envelope
    return None


def _subscription(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    out: Batch,
    member: Member,
    data: bytes,
    fields: list[str] | None,
) -> list[FileReport]:
    """Each log stream of a CloudWatch Logs subscription payload, parsed as a file of its own."""
    found = cloudwatch.unwrap(con, data)
    reports = []
    if found.problems or found.control_messages:
        report = FileReport(member.name, GENERIC_TABLE, skipped=found.control_messages)
        if found.problems:
            report.problem = "; ".join(found.problems)
            out.quarantine(report, [Quarantined(member.name, None, report.problem, data)])
        reports.append(report)
    for stream in found.streams:
        name = f"{member.name}!{stream.name}"
        plain = detect(catalog, name, head_of(stream.text))
        # Messages that carry no time of their own (API Gateway execution logs) are recognised
        # in the export form, each with its event's time: then that form is what is parsed.
        timed, stamped = None, b""
        if plain is None or plain.strength < 2:
            stamped = stream.stamped(con)
            timed = detect(catalog, name, head_of(stamped)) if stamped else None
        if timed is not None and timed.strength > (plain.strength if plain else 0):
            reports += _parse_member(con, catalog, out, _virtual(name, stamped), None, fields)
        elif plain is not None or _envelope(catalog, stream.text[:4096]):
            reports += _parse_member(con, catalog, out, _virtual(name, stream.text), None, fields)
        else:  # application logs: kept as generic CloudWatch Logs events
            reports += _parse_member(
                con, catalog, out, _virtual(name, stream.rows(con)), _generic(catalog), None
            )
    return reports


def _virtual(name: str, data: bytes) -> Member:
    return Member(name, partial(io.BytesIO, data))


def _chain(first: Block | None, rest: Iterator[Block]) -> Iterator[Block]:
    if first is not None:
        yield first
    yield from rest
