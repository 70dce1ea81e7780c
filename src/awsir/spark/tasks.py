"""What Spark's Python workers run: the same parser as ``awsir parse``, on Arrow batches.

Spark hands each task a few whole log objects (``binaryFile`` rows: path and content). The task
writes each to a local temporary file, runs :class:`~awsir.parse.engine.Parser` over them (the
DuckDB and Arrow pipeline of the single-machine tools, nothing re-implemented), and yields
*staged* rows: each batch of parsed rows serialised as one Arrow IPC blob, each quarantine batch
likewise, and one JSON report per input file. Blobs keep every column's exact Arrow type through
Spark's shuffle whatever the table; the driver then decodes them per table (:func:`decode_rows`)
into typed columns that Spark partitions, sorts and writes in the lake layout.

This module does not import pyspark: it is tested on its own, and the driver ships it to the
workers by reference.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from awsir.catalog import Catalog, load_catalog
from awsir.parse.batch import FileReport
from awsir.parse.engine import Parser
from awsir.parse.output import QUARANTINE, plain_columns

STAGED = pa.schema(
    [
        ("kind", pa.string()),  # rows | quarantine | report | schema
        ("table", pa.string()),
        ("blob", pa.binary()),  # rows, quarantine: Arrow IPC stream; report: JSON; schema: an
        # Arrow schema a table's blobs have (once per task), so the driver can unify them
        # without reading the blobs
    ]
)
ROWS, QUARANTINED, REPORT, SCHEMA = "rows", "quarantine", "report", "schema"
BLOB_ROWS = 8192
"""Rows per blob: Spark moves a blob as one value, so a blob stays a few MB (CloudTrail rows
are about 2 KB)."""
QUARANTINE_SPARK = "file STRING, line BIGINT, reason STRING, raw STRING"
"""How quarantine entries are written by Spark: as in a case's quarantine JSON lines (raw bytes
as text, undecodable bytes escaped)."""


def object_name(path: str) -> str:
    """What rows and reports call an input object: its S3 URI for ``s3a://`` and ``s3n://``
    (as AWS and ``awsir ingest`` name it), a plain path for ``file:`` URIs, else as given."""
    for scheme in ("s3a://", "s3n://"):
        if path.startswith(scheme):
            return "s3://" + path[len(scheme) :]
    if path.startswith("file://"):
        return path[len("file://") :]
    if path.startswith("file:"):
        return path[len("file:") :]
    return path


def _ipc(batch: pa.Table | pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write(batch)
    return bytes(sink.getvalue())


class _Staging:
    """A parser sink that keeps staged rows until the task yields them."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, bytes]] = set()
        self._clear()

    def _clear(self) -> None:
        self.kinds: list[str] = []
        self.tables: list[str] = []
        self.blobs: list[bytes] = []

    def add(self, kind: str, table: str, blob: bytes) -> None:
        self.kinds.append(kind)
        self.tables.append(table)
        self.blobs.append(blob)

    def rows(self, table: str, batch: pa.Table) -> None:
        plain = plain_columns(batch)  # JSON columns as their text: Spark has no JSON type
        schema = bytes(plain.schema.serialize())
        if (table, schema) not in self.seen:
            self.seen.add((table, schema))
            self.add(SCHEMA, table, schema)
        for chunk in plain.to_batches(max_chunksize=BLOB_ROWS):
            self.add(ROWS, table, _ipc(chunk))

    def quarantine(self, batch: pa.Table) -> None:
        for chunk in batch.to_batches(max_chunksize=BLOB_ROWS):
            self.add(QUARANTINED, QUARANTINE, _ipc(chunk))

    def take(self) -> pa.RecordBatch:
        out = pa.RecordBatch.from_arrays(
            [
                pa.array(self.kinds, pa.string()),
                pa.array(self.tables, pa.string()),
                pa.array(self.blobs, pa.binary()),
            ],
            schema=STAGED,
        )
        self._clear()
        return out


def _report(report: FileReport, origin: str, digest: str, size: int, known: bool) -> bytes:
    return json.dumps(
        {**asdict(report), "origin": origin, "sha256": digest, "size": size, "known": known}
    ).encode()


def parse_objects(
    batches: Iterable[pa.RecordBatch],
    *,
    known: frozenset[str] = frozenset(),
    catalog: Catalog | None = None,
) -> Iterator[pa.RecordBatch]:
    """Staged rows (:data:`STAGED`) of the objects in ``batches`` (``path`` and ``content``
    columns, as Spark's ``binaryFile`` source gives them). An object whose SHA-256 is in
    ``known`` (already in the case) is reported, not parsed."""
    staging = _Staging()
    meta: dict[str, tuple[str, int]] = {}  # object name: (sha256, size)

    def reports(done: list[FileReport]) -> None:
        for report in done:
            origin = report.file.split("!", 1)[0]
            digest, size = meta[origin]
            staging.add(REPORT, report.table or "", _report(report, origin, digest, size, False))

    with tempfile.TemporaryDirectory(prefix="awsir-spark-") as tmp:
        parser = Parser(catalog or load_catalog(), staging, threads=1)
        with parser:
            n = 0
            for batch in batches:
                paths = batch.column("path").to_pylist()
                contents = batch.column("content")
                for i, path in enumerate(paths):
                    data = contents[i].as_py()  # one object, as bytes (not per event)
                    name, digest = object_name(path), hashlib.sha256(data).hexdigest()
                    meta[name] = (digest, len(data))
                    if digest in known:
                        staging.add(REPORT, "", _report(FileReport(name), name, digest, 0, True))
                        continue
                    n += 1
                    local = Path(tmp) / str(n) / (name.rsplit("/", 1)[-1] or "object")
                    local.parent.mkdir()
                    local.write_bytes(data)
                    del data
                    reports(parser.parse(local, name))
                    if staging.blobs:
                        yield staging.take()
            reports(parser.finish())
        if staging.blobs:
            yield staging.take()


def _file_of(refs: pa.Array) -> pa.Array:
    """The object a row or quarantine entry came from (``raw_ref`` is ``file:line``; an archive
    member is ``object!member``)."""
    text = pc.replace_substring_regex(refs, r":\d+$", "")
    return pc.replace_substring_regex(text, r"!.*$", "")


def _without(batch: pa.RecordBatch, column: str, drop: frozenset[str]) -> pa.RecordBatch:
    if not drop:
        return batch
    dropped = pc.is_in(_file_of(batch.column(column)), pa.array(sorted(drop), pa.string()))
    return batch.filter(pc.invert(dropped))


def decode_rows(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema, drop: frozenset[str] = frozenset()
) -> Iterator[pa.RecordBatch]:
    """Typed rows of one table from its staged blobs, in ``schema`` (the union of the table's
    blob schemas: a column a blob lacks is null). Rows of objects in ``drop`` (the same content
    as another object of the same run) are left out."""
    for batch in batches:
        for blob in batch.column("blob").to_pylist():
            for part in pa.ipc.open_stream(blob):
                n = part.num_rows
                columns = [
                    part.column(f.name).cast(f.type)
                    if f.name in part.schema.names
                    else pa.nulls(n, f.type)
                    for f in schema
                ]
                out = pa.RecordBatch.from_arrays(columns, schema=schema)
                yield _without(out, "raw_ref", drop)


def decode_quarantine(
    batches: Iterable[pa.RecordBatch], drop: frozenset[str] = frozenset()
) -> Iterator[pa.RecordBatch]:
    """Quarantine entries from their blobs, raw bytes as text (:data:`QUARANTINE_SPARK`)."""
    for batch in batches:
        for blob in batch.column("blob").to_pylist():
            for part in pa.ipc.open_stream(blob):
                raw = [
                    None if r is None else r.decode("utf-8", "backslashreplace")
                    for r in part.column("raw").to_pylist()
                ]  # quarantine is small: a Python loop is fine here
                out = pa.RecordBatch.from_arrays(
                    [part.column("file"), part.column("line"), part.column("reason"),
                     pa.array(raw, pa.string())],
                    names=["file", "line", "reason", "raw"],
                )  # fmt: skip
                yield _without(out, "file", drop)


def unify(schemas: Iterable[bytes]) -> pa.Schema:
    """One schema for a table's blobs (columns by name; types promoted where they differ)."""
    read = [pa.ipc.read_schema(pa.py_buffer(s)) for s in schemas]
    return pa.unify_schemas(read, promote_options="permissive")
