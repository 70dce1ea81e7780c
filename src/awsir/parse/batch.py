"""Rows of many files converted together: one SQL statement per ~100k rows, not per file.

AWS writes many small files (CloudTrail every 5 minutes per Region, S3 server access logs a few
KB each). Each conversion statement costs a fixed ~10-20 ms (prepare, bind, compile the regular
expressions), so converting file by file spent more than half of CloudTrail's time on overhead.
Blocks of the same table and shape wait here until a batch is full, then are converted at once.

Each block keeps where it came from in three dictionary columns (``_file``, ``_key_account``,
``_key_region``) and a ``_part`` index, so ``raw_ref`` and the key-layout account and Region stay
per file, and a row that fails conversion is quarantined with its own file's raw bytes.
A file's report is complete (and handed out) only once all its rows are converted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from awsir.parse import quarantine
from awsir.parse.convert import ERROR, PART, convert, with_origin
from awsir.parse.delimited import LINE, Split
from awsir.parse.jsonread import RECORD
from awsir.parse.quarantine import Quarantined
from awsir.parse.reading import Block
from awsir.parse.spec import Table

BATCH_ROWS = 100_000
BATCH_BYTES = 96 << 20  # strings plus the raw text kept for quarantine


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


@dataclass
class _Part:
    report: FileReport
    strings: pa.Table
    raw_of: Callable[[int], bytes] | None
    block: Block | None


@dataclass
class Batch:
    """Blocks of one table waiting for conversion, and the reports they still owe rows to."""

    con: duckdb.DuckDBPyConnection
    sink: Sink
    _parts: list[_Part] = field(default_factory=list)
    _shape: tuple[object, ...] | None = None
    _table: Table | None = None
    _final: frozenset[str] = frozenset()
    _rows: int = 0
    _bytes: int = 0
    _owed: dict[int, int] = field(default_factory=dict)  # id(report) -> parts not converted

    def add(
        self, report: FileReport, table: Table, split: Split, block: Block | None, held: int = 0
    ) -> None:
        """Count and quarantine now; convert the rows with the batch. ``held``: bytes that
        ``split.raw_of`` keeps alive (a whole document), counted against the batch's memory."""
        report.skipped += split.skipped
        self.quarantine(report, split.quarantined)
        strings = split.strings
        if strings is None or not strings.num_rows:
            return
        shape = (report.table, id(table), strings.schema, split.final)
        if self._parts and shape != self._shape:
            self.flush()
        self._shape, self._table, self._final = shape, table, split.final
        self._parts.append(_Part(report, strings, split.raw_of, block))
        self._owed[id(report)] = self._owed.get(id(report), 0) + 1
        self._rows += strings.num_rows
        self._bytes += strings.nbytes + (len(block.data) if block else held)
        if self._rows >= BATCH_ROWS or self._bytes >= BATCH_BYTES:
            self.flush()

    def owes(self, report: FileReport) -> bool:
        """Has ``report`` rows still waiting for conversion?"""
        return self._owed.get(id(report), 0) > 0

    def flush(self) -> None:
        """Convert and write the waiting rows. If that raises, they stay for :meth:`drop`."""
        parts, table = self._parts, self._table
        if not parts or table is None:
            return
        self._convert(parts, table)
        self._parts, self._rows, self._bytes, self._shape = [], 0, 0, None
        for part in parts:
            self._owed[id(part.report)] -= 1
            if not self._owed[id(part.report)]:
                del self._owed[id(part.report)]

    def drop(self) -> list[FileReport]:
        """Forget the waiting rows (after an internal error); the reports that had some."""
        reports = {id(p.report): p.report for p in self._parts}
        self._parts, self._rows, self._bytes, self._shape = [], 0, 0, None
        for key in reports:
            self._owed.pop(key, None)
        return list(reports.values())

    def quarantine(self, report: FileReport, entries: list[Quarantined]) -> None:
        if entries:
            self.sink.quarantine(quarantine.to_table(entries))
            report.quarantined += len(entries)

    def _convert(self, parts: list[_Part], table: Table) -> None:
        name = parts[0].report.table or ""
        origins = [with_origin(p.strings, p.report.file, k) for k, p in enumerate(parts)]
        strings = pa.concat_tables(origins)
        typed = convert(self.con, name, table, strings, self._final)
        failed = pc.is_valid(typed.column(ERROR))
        if pc.any(failed).as_py():
            self._reject(parts, typed.filter(failed))
            typed = typed.filter(pc.invert(failed))
        if typed.num_rows:
            counts = pc.value_counts(typed.column(PART)).to_pylist()
            for entry in counts:
                parts[entry["values"]].report.rows += entry["counts"]
        drop = [c for c in (ERROR, RECORD, LINE, PART) if c in typed.column_names]
        typed = typed.drop_columns(drop)
        if typed.num_rows:
            self.sink.rows(name, typed)

    def _reject(self, parts: list[_Part], rejected: pa.Table) -> None:
        where = zip(
            rejected.column(PART).to_pylist(),
            rejected.column(LINE).to_pylist(),
            rejected.column(ERROR).to_pylist(),
            strict=True,
        )
        records = rejected.column(RECORD).to_pylist() if RECORD in rejected.column_names else None
        lines: dict[int, list[bytes]] = {}
        by_part: dict[int, list[Quarantined]] = {}
        for k, (part, line, why) in enumerate(where):
            if records is not None:
                raw = (records[k] or "").encode()
            else:
                raw = _raw(parts[part], line, lines.setdefault(part, _lines(parts[part])))
            entry = Quarantined(parts[part].report.file, line, why, raw)
            by_part.setdefault(part, []).append(entry)
        for part, entries in by_part.items():
            self.quarantine(parts[part].report, entries)


def _lines(part: _Part) -> list[bytes]:
    return part.block.data.split(b"\n") if part.block is not None else []


def _raw(part: _Part, line: int, lines: list[bytes]) -> bytes:
    """The raw bytes of one record (only for rows that failed conversion)."""
    if part.raw_of is not None:
        return part.raw_of(line)
    offset = line - part.block.first_line if part.block is not None else -1
    return lines[offset] if 0 <= offset < len(lines) else b""
