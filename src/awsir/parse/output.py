"""Where ``awsir parse`` puts rows: JSON lines on stdout, or a folder per table.

JSON text is produced by DuckDB (``to_json``) and Parquet/CSV by Arrow writers, batch by batch,
so output never holds more than one batch. In a folder, each worker process writes its own
``<table>/part-<k>.<fmt>`` (no locking, no merge step; DuckDB, Spark, Athena and pandas read a
folder of parts as one table). Quarantined records go to ``quarantine/part-<k>.jsonl`` with
their raw bytes as text.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import IO

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from awsir.parse.sql import ident, literal

FORMATS = ("jsonl", "csv", "parquet")
QUARANTINE = "quarantine"
PART = re.compile(r"part-\d+\.(jsonl|csv|parquet)")


def _json_lines(con: duckdb.DuckDBPyConnection, batch: pa.Table, table: str | None) -> str:
    con.register("batch", batch)
    try:
        iso = [  # JSON carries ISO 8601 UTC times ("...T...Z"), not DuckDB's display form
            f"strftime({ident(f.name)}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {ident(f.name)}"
            for f in batch.schema
            if pa.types.is_timestamp(f.type)
        ]
        replace = f" REPLACE ({', '.join(iso)})" if iso else ""
        extra = f", {literal(table)} AS _table" if table else ""
        rows = con.sql(f"SELECT to_json(b) AS j FROM (SELECT *{replace}{extra} FROM batch) b")
        return "".join(line + "\n" for line in rows.to_arrow_table().column("j").to_pylist())
    finally:
        con.unregister("batch")


def _quarantine_lines(batch: pa.Table) -> str:
    out = []
    for row in batch.to_pylist():  # quarantine is small: a Python loop is fine here
        row["raw"] = row["raw"].decode("utf-8", "backslashreplace")
        out.append(json.dumps(row, ensure_ascii=False) + "\n")
    return "".join(out)


def _plain(schema: pa.Schema) -> pa.Schema:
    """CSV has no extension types: JSON columns are written as their text."""
    return pa.schema(
        [
            f.with_type(f.type.storage_type) if isinstance(f.type, pa.BaseExtensionType) else f
            for f in schema
        ]
    )


def plain_columns(batch: pa.Table) -> pa.Table:
    columns = [
        pa.chunked_array([c.storage for c in col.chunks], col.type.storage_type)
        if isinstance(col.type, pa.BaseExtensionType)
        else col
        for col in batch.columns
    ]
    return pa.table(columns, names=batch.column_names)


class StdoutSink:
    """Rows of every table as JSON lines on stdout, each with a ``_table`` key."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.quarantined = 0

    def rows(self, table: str, batch: pa.Table) -> None:
        self.stream.write(_json_lines(self.con, batch, table))

    def quarantine(self, batch: pa.Table) -> None:
        self.quarantined += batch.num_rows  # counted in the summary; use -o to keep them

    def close(self) -> None:
        self.stream.flush()
        self.con.close()


def clear_parts(folder: Path) -> list[Path]:
    """Remove the part files an earlier run left in ``folder`` (only files named like ours), so
    a new run never mixes with an old one; returns what it removed."""
    removed = []
    if folder.is_dir():
        for path in sorted(folder.glob("*/part-*")):
            if PART.fullmatch(path.name) and path.is_file():
                path.unlink()
                removed.append(path)
    return removed


def part_files(folder: Path) -> list[Path]:
    """The part files in ``folder``, tables first, quarantine last."""
    found = [p for p in sorted(folder.glob("*/part-*")) if PART.fullmatch(p.name)]
    return sorted(found, key=lambda p: (p.parent.name == QUARANTINE, str(p)))


def _stats_columns(schema: pa.Schema) -> list[str]:
    """Columns that get min/max statistics: times and numbers, which engines use to skip row
    groups (``WHERE time BETWEEN ...``). String statistics cost 17% of the write time (ALB)
    and prune nothing in unsorted logs."""
    return [
        f.name
        for f in schema
        if pa.types.is_temporal(f.type)
        or pa.types.is_integer(f.type)
        or pa.types.is_floating(f.type)
        or pa.types.is_boolean(f.type)
    ]


class FolderSink:
    """``DIR/<table>/part-<part>.<fmt>`` per table and ``DIR/quarantine/part-<part>.jsonl``."""

    def __init__(self, folder: Path, fmt: str, part: int = 0) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}; one of {', '.join(FORMATS)}")
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.fmt, self.part = folder, fmt, part
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.writers: dict[str, pq.ParquetWriter | pacsv.CSVWriter | IO[str]] = {}
        self.schemas: dict[str, pa.Schema] = {}
        self.quarantine_file: IO[str] | None = None
        self.paths: list[Path] = []

    def rows(self, table: str, batch: pa.Table) -> None:
        writer = self.writers.get(table)
        if writer is None:
            path = self._path(table, self.fmt)
            self.paths.append(path)
            schema = _plain(batch.schema) if self.fmt == "csv" else batch.schema
            self.schemas[table] = schema
            if self.fmt == "parquet":
                writer = pq.ParquetWriter(
                    path, schema, compression="zstd", write_statistics=_stats_columns(schema)
                )
            elif self.fmt == "csv":
                writer = pacsv.CSVWriter(path, schema)
            else:
                writer = path.open("w", encoding="utf-8")
            self.writers[table] = writer
        if isinstance(writer, pq.ParquetWriter | pacsv.CSVWriter):
            plain = plain_columns(batch) if self.fmt == "csv" else batch
            writer.write_table(plain.cast(self.schemas[table]))
        else:
            writer.write(_json_lines(self.con, batch, None))

    def _path(self, name: str, ext: str) -> Path:
        (self.folder / name).mkdir(exist_ok=True)
        return self.folder / name / f"part-{self.part}.{ext}"

    def quarantine(self, batch: pa.Table) -> None:
        if self.quarantine_file is None:
            path = self._path(QUARANTINE, "jsonl")
            self.paths.append(path)
            self.quarantine_file = path.open("w", encoding="utf-8")
        self.quarantine_file.write(_quarantine_lines(batch))

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        if self.quarantine_file is not None:
            self.quarantine_file.close()
        self.con.close()
