"""``awsir spark-ingest``: the ingest of :mod:`awsir.store.ingest`, scaled out on Apache Spark.

For evidence that outgrows one machine. The parsing is the same code as ``awsir parse`` and
``awsir ingest`` (:mod:`awsir.spark.tasks` runs it in Spark's Python workers through
``mapInArrow``); Spark distributes the objects, shuffles rows to their partition, sorts them and
writes them, and the driver commits the batch into a case with the same layout, registry and
journal as a single-machine case:

1. Spark lists the input objects (``binaryFile``: any Hadoop path, ``s3a://`` or ``s3://`` on
   EMR, HDFS, local) and each task parses a few whole objects into staged Arrow blobs; an object
   whose SHA-256 the case already holds is only reported.
2. Per table, the blobs are decoded into typed columns, partitioned by account, Region and day,
   sorted by :data:`~awsir.store.layout.CLUSTER_BY` within each partition and written with
   zstd into ``staging/<batch>/lake/<table>/account_id=/region=/day=/``; quarantined records
   into ``staging/<batch>/quarantine``.
3. The driver writes the journal, moves the files into ``lake/`` and ``quarantine/`` with the
   names a local ingest gives (``part-<batch>-<k>.parquet``, ``<batch>-<k>.jsonl``), writes the
   registry entry, and (for a case on this machine) rebuilds the DuckDB catalog, so ``awsir
   query --case`` works on it as on any case. A crash leaves staging (dropped by the next
   ingest, which parses those objects again) or a journal (finished by the next ingest, local or
   Spark). ``athena.sql`` at the case root creates the tables in Athena (partition projection).

Run it with ``awsir spark-ingest`` (Spark in this process: ``--master local[*]`` by default, or
a cluster URL) or with ``spark-submit`` (``python -m awsir.spark --help``); every executor needs
awsir installed.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from awsir.parse.batch import FileReport
from awsir.parse.sql import ident
from awsir.spark.hadoop import HadoopFiles
from awsir.spark.tasks import (
    QUARANTINE_SPARK,
    QUARANTINED,
    REPORT,
    ROWS,
    SCHEMA,
    decode_quarantine,
    decode_rows,
    parse_objects,
    unify,
)
from awsir.store.case import Case, CaseError, crash_point
from awsir.store.catalog import build_catalog
from awsir.store.export import athena_ddl
from awsir.store.ingest import IngestResult, file_entry
from awsir.store.layout import CLUSTER_BY, PARTITIONS

STAGED_SPARK = "kind STRING, `table` STRING, blob BINARY"
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",  # times are UTC; ``day`` is the UTC date
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # not INT96: as DuckDB writes
    "spark.sql.parquet.compression.codec": "zstd",
    # a binaryFile row is a whole object: few per Arrow batch keeps a worker's memory bounded
    "spark.sql.execution.arrow.maxRecordsPerBatch": "4",
    "spark.sql.files.maxPartitionBytes": str(64 << 20),  # objects per task
    # partition folders are read back as text (account ids are not numbers)
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}
ROW_GROUP_BYTES = 32 << 20  # as a local ingest writes (``ROW_GROUP_SIZE_BYTES``)


class SparkIngestError(Exception):
    """An input or case problem, said in one line."""


def session(master: str | None = "local[*]", app: str = "awsir") -> Any:
    """A Spark session. ``local[...]`` runs Spark in this process, bound to 127.0.0.1, with
    this interpreter in the Python workers; otherwise the cluster's defaults (spark-submit)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    if master:
        builder = builder.master(master)
    if master and master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        for key, value in {
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.driver.host": "127.0.0.1",
            "spark.ui.enabled": "false",
            # the driver is the executor here: Spark's default 1 GB is too small for wide
            # CloudTrail rows in flight on every core
            "spark.driver.memory": local_memory(),
        }.items():
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def local_memory() -> str:
    """The JVM heap for Spark in local mode: a quarter of this machine's RAM, 1-4 GB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: the floor
        total = 0
    return f"{min(max(total // 4, 1 << 30), 4 << 30) >> 20}m"


def _local_case(case: str) -> Path | None:
    """The case folder when it is given as a path on this machine; a case given as a URI
    (``s3a://``, ``hdfs://``, ``file:``) is only reached through Hadoop, and gets no catalog."""
    return None if ":" in case.split("/", 1)[0] else Path(case)


def _case_uri(case: str) -> str:
    local = _local_case(case)
    return local.resolve().as_uri() if local is not None else case


def recover(files: HadoopFiles, local: Path | None) -> str | None:
    """Finish a commit a crash interrupted; drop uncommitted staging. What was done."""
    done = None
    if files.exists("journal.json"):
        journal = json.loads(files.read_text("journal.json"))
        _apply(files, journal, local)
        done = f"finished committing batch {journal['entry']['batch']}, interrupted earlier"
    leftovers = files.names("staging")
    for name in leftovers:
        files.delete(f"staging/{name}")
    if leftovers and done is None:
        done = f"removed {len(leftovers)} uncommitted batch(es) left by an interrupted ingest"
    return done


def _apply(files: HadoopFiles, journal: dict[str, Any], local: Path | None) -> None:
    """The moves a journal lists (those not done yet), the registry entry, the catalog."""
    entry, moves = journal["entry"], journal["moves"]
    for k, (staged, final) in enumerate(moves):
        if files.exists(staged):
            files.move(staged, final)
        elif not files.exists(final):
            raise CaseError(f"damaged case {files.root}: {staged} is gone and {final} absent")
        if k == len(moves) // 2:
            crash_point("moving")
    files.write_text(f"registry/{entry['batch']}.json", json.dumps(entry, indent=1))
    if local is not None:
        build_catalog(Case(local))
    files.delete("journal.json")
    files.delete(f"staging/{entry['batch']}")


def known_hashes(files: HadoopFiles) -> frozenset[str]:
    found: set[str] = set()
    for name in files.names("registry"):
        if name.endswith(".json"):
            entry = json.loads(files.read_text(f"registry/{name}"))
            found.update(f["sha256"] for f in entry.get("files", []))
    return frozenset(found)


def _reports(rows: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(bytes(row["blob"])) for row in rows]


def _duplicates(reports: list[dict[str, Any]]) -> frozenset[str]:
    """Objects with the same content as another object of this run (all but the first by name):
    a case holds each content once."""
    first: dict[str, str] = {}
    for report in sorted(reports, key=lambda r: r["origin"]):
        if not report["known"]:
            first.setdefault(report["sha256"], report["origin"])
    return frozenset(
        r["origin"] for r in reports if not r["known"] and first[r["sha256"]] != r["origin"]
    )


def spark_ingest(
    spark: Any,
    inputs: Sequence[str],
    case: str,
    *,
    on_report: Callable[[FileReport], None] | None = None,
) -> IngestResult:
    """Add the objects under ``inputs`` (Hadoop paths or URIs) to ``case`` (a local folder or a
    URI), as the module docstring describes."""
    from pyspark import StorageLevel
    from pyspark.errors import AnalysisException

    local = _local_case(case)
    result = IngestResult()
    files = HadoopFiles(spark, _case_uri(case))
    with Case(local).writing() if local is not None else nullcontext():
        result.recovered = recover(files, local)
        if local is not None and not Case(local).exists():
            build_catalog(Case(local))  # an empty case is a case: its views exist
        known = spark.sparkContext.broadcast(known_hashes(files))
        for key, value in SETTINGS.items():
            spark.conf.set(key, value)
        try:
            objects = (
                spark.read.format("binaryFile")
                .option("recursiveFileLookup", "true")
                .load(list(inputs))
            )
        except AnalysisException as exc:
            raise SparkIngestError(f"cannot read the input: {_first_line(exc)}") from None

        def parse(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            return parse_objects(batches, known=known.value)

        staged = objects.select("path", "content").mapInArrow(parse, STAGED_SPARK)
        staged = staged.persist(StorageLevel.DISK_ONLY)
        try:
            return _ingest_staged(spark, staged, files, local, result, on_report)
        finally:
            staged.unpersist()
            known.destroy()


def _ingest_staged(
    spark: Any,
    staged: Any,
    files: HadoopFiles,
    local: Path | None,
    result: IngestResult,
    on_report: Callable[[FileReport], None] | None,
) -> IngestResult:
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    told = staged.where(F.col("kind").isin(REPORT, SCHEMA)).collect()
    reports = _reports([row for row in told if row["kind"] == REPORT])
    drop = _duplicates(reports)
    per_object: dict[str, list[FileReport]] = {}
    names = {f.name for f in dataclass_fields(FileReport)}
    for raw in sorted(reports, key=lambda r: r["file"]):
        if raw["known"] or raw["origin"] in drop:
            result.skipped_files += 1
            continue
        report = FileReport(**{k: v for k, v in raw.items() if k in names})
        per_object.setdefault(raw["origin"], []).append(report)
        result.reports.append(report)
        if on_report is not None:
            on_report(report)
    sizes = {r["origin"]: (r["sha256"], r["size"]) for r in reports}
    result.new_files = len(per_object)
    result.quarantined = sum(r.quarantined for r in result.reports)
    if not per_object:
        return result
    batch = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    result.batch, stage = batch, f"staging/{batch}"
    schemas: dict[str, list[bytes]] = {}
    for row in told:
        if row["kind"] == SCHEMA:
            schemas.setdefault(row["table"], []).append(bytes(row["blob"]))
    rows = staged.where(F.col("kind") == ROWS)
    keys = list(PARTITIONS)
    for table in sorted(schemas):
        schema = unify(schemas[table])
        typed = (
            rows.where(F.col("table") == table)
            .select("blob")
            .mapInArrow(
                partial(decode_rows, schema=schema, drop=drop),
                from_arrow_schema(schema, prefer_timestamp_ntz=False),
            )
        )
        (
            typed.withColumn("day", F.to_date("time"))
            # no shuffle: each task writes its own file per partition it holds rows of
            # (partition keys first, or the writer re-sorts by them and loses the order; nulls
            # last, as DuckDB sorts
            .sortWithinPartitions(*keys, *(F.asc_nulls_last(c) for c in CLUSTER_BY))
            .write.partitionBy(*keys)
            .option("compression", "zstd")
            .option("parquet.block.size", ROW_GROUP_BYTES)
            .parquet(files.uri(f"{stage}/lake/{table}"))
        )
    if result.quarantined:
        (
            staged.where(F.col("kind") == QUARANTINED)
            .select("blob")
            .mapInArrow(partial(decode_quarantine, drop=drop), QUARANTINE_SPARK)
            .coalesce(1)
            .write.option("ignoreNullFields", "false")
            .json(files.uri(f"{stage}/quarantine"))
        )
    _describe(spark, files, stage, sorted(schemas), result)
    moves: list[tuple[str, str]] = []
    lake: dict[str, list[str]] = {}
    for table in sorted(schemas):
        prefix = f"{stage}/lake/{table}/"
        for k, staged_file in enumerate(files.files(prefix)):
            folder = staged_file[len(prefix) :].rsplit("/", 1)[0]
            final = f"lake/{table}/{folder}/part-{batch}-{k}.parquet"
            moves.append((staged_file, final))
            lake.setdefault(table, []).append(final)
    quarantine = []
    for k, staged_file in enumerate(files.files(f"{stage}/quarantine")):
        final = f"quarantine/{batch}-{k}.jsonl"
        moves.append((staged_file, final))
        quarantine.append(final)
    entry = {
        "batch": batch,
        "time": datetime.now(UTC).isoformat(),
        "files": [
            file_entry(origin, *sizes[origin], per_object[origin]) for origin in sorted(per_object)
        ],
        "lake": lake,
        "quarantine": quarantine,
    }
    journal = {"entry": entry, "moves": moves}
    files.write_text("journal.json", json.dumps(journal))
    crash_point("journal")
    _apply(files, journal, local)
    files.write_text("athena.sql", _athena(spark, files))
    return result


def _describe(
    spark: Any, files: HadoopFiles, stage: str, tables: list[str], result: IngestResult
) -> None:
    from pyspark.sql import functions as F

    """Events per source, time span, accounts and Regions of the new rows."""
    for table in tables:
        [row] = (
            spark.read.parquet(files.uri(f"{stage}/lake/{table}"))
            .agg(
                F.count(F.lit(1)).alias("n"),
                F.min("time").alias("a"),
                F.max("time").alias("b"),
                F.collect_set("account_id").alias("accounts"),
                F.collect_set("region").alias("regions"),
            )
            .collect()
        )
        result.per_source[table] = row["n"]
        result.first = _pick(min, result.first, row["a"])
        result.last = _pick(max, result.last, row["b"])
        result.accounts = sorted(set(result.accounts) | set(row["accounts"]))
        result.regions = sorted(set(result.regions) | set(row["regions"]))


def _pick(
    how: Callable[..., datetime], old: datetime | None, new: datetime | None
) -> datetime | None:
    if new is not None and new.tzinfo is None:
        new = new.replace(tzinfo=UTC)  # Spark hands out naive datetimes in the session zone
    values = [v for v in (old, new) if v is not None]
    return how(values) if values else None


def _athena(spark: Any, files: HadoopFiles) -> str:
    """Athena DDL for every table of the lake (their schemas as Spark reads them)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    con = duckdb.connect()
    try:
        for table in files.names("lake"):
            schema = spark.read.parquet(files.uri(f"lake/{table}")).schema
            empty = to_arrow_schema(schema, timezone="UTC").empty_table()
            con.register("empty", empty)
            con.execute(f"CREATE TABLE {ident('_' + table)} AS SELECT * FROM empty")
            con.unregister("empty")
            con.execute(f"CREATE VIEW {ident(table)} AS SELECT * FROM {ident('_' + table)}")
        location = files.uri("lake").replace("s3a://", "s3://")
        return athena_ddl(con, location)
    finally:
        con.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
