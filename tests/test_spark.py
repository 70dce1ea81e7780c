"""``awsir spark-ingest``: the same parsers on Apache Spark, the same case layout.

The worker-side functions are tested on their own; then a real local Spark (PySpark, Java)
ingests the samples, and every view of its case must equal the views of a single-machine
ingest of the same files, row for row and type for type. Skipped, with the reason, where
PySpark or Java is missing (``./scripts/test`` installs both where it can).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from awsir.parse.engine import parse_files
from awsir.spark.tasks import (
    QUARANTINED,
    REPORT,
    ROWS,
    SCHEMA,
    decode_quarantine,
    decode_rows,
    object_name,
    parse_objects,
    unify,
)
from awsir.store.layout import CLUSTER_BY
from tests.test_store_ingest import SOURCES, evidence, query

ALB = sorted((SOURCES / "alb" / "samples" / "alb").glob("*.log"))


@pytest.fixture(scope="module")
def catalog():
    from awsir.catalog import load_catalog

    return load_catalog()


def objects(paths: list[Path], names: list[str] | None = None) -> pa.RecordBatch:
    """What Spark's ``binaryFile`` source hands a task: paths and whole contents."""
    return pa.RecordBatch.from_pydict(
        {
            "path": names or [p.as_uri() for p in paths],
            "content": pa.array([p.read_bytes() for p in paths], pa.binary()),
        }
    )


def staged_rows(batches) -> list[dict]:
    return [row for batch in batches for row in batch.to_pylist()]


def test_object_names_are_what_aws_and_awsir_ingest_call_them():
    assert object_name("s3a://bucket/AWSLogs/1/x.gz") == "s3://bucket/AWSLogs/1/x.gz"
    assert object_name("s3n://bucket/k") == "s3://bucket/k"
    assert object_name("file:/tmp/a.log") == "/tmp/a.log"
    assert object_name("file:///tmp/a.log") == "/tmp/a.log"
    assert object_name("hdfs://nn/logs/a") == "hdfs://nn/logs/a"


def test_worker_rows_equal_the_single_machine_parser(catalog, tmp_path):
    """Staged blobs decode to exactly the rows ``awsir parse`` gives for the same files (and
    the same quarantine), and every file's report reconciles."""
    bad = tmp_path / "damaged.log"
    bad.write_bytes(ALB[0].read_bytes() + b"h2 not an ALB line \xff\n")
    files = [*ALB, bad]
    staged = staged_rows(parse_objects([objects(files)], catalog=catalog))
    reports = [json.loads(r["blob"]) for r in staged if r["kind"] == REPORT]
    assert {r["origin"] for r in reports} == {str(p) for p in files}
    for report in reports:
        assert report["rows"] + report["quarantined"] > 0
        assert len(report["sha256"]) == 64 and report["size"] > 0 and not report["known"]

    class Keep:
        def __init__(self):
            self.tables: dict[str, list[pa.Table]] = {}
            self.quarantined = 0

        def rows(self, table, batch):
            self.tables.setdefault(table, []).append(batch)

        def quarantine(self, batch):
            self.quarantined += batch.num_rows

    keep = Keep()
    expected = list(parse_files(files, catalog, keep))
    assert sum(r["rows"] for r in reports) == sum(r.rows for r in expected)
    for table, batches in keep.tables.items():
        blobs = [r for r in staged if r["kind"] == ROWS and r["table"] == table]
        schema = unify(r["blob"] for r in staged if r["kind"] == SCHEMA and r["table"] == table)
        got = pa.Table.from_batches(
            list(decode_rows([pa.RecordBatch.from_pylist(blobs)], schema)), schema
        )
        want = pa.concat_tables(batches)
        assert got.num_rows == want.num_rows > 0
        assert got.column("raw_ref").to_pylist() == want.column("raw_ref").to_pylist()
        assert got.column("time").to_pylist() == want.column("time").to_pylist()
    quarantine = [r for r in staged if r["kind"] == QUARANTINED]
    decoded = list(decode_quarantine([pa.RecordBatch.from_pylist(quarantine)]))
    assert (
        sum(b.num_rows for b in decoded)
        == keep.quarantined
        == sum(r["quarantined"] for r in reports)
    )
    for batch in decoded:
        assert all(isinstance(raw, str) for raw in batch.column("raw").to_pylist())


def test_known_objects_are_reported_not_parsed(catalog):
    import hashlib

    known = frozenset({hashlib.sha256(ALB[0].read_bytes()).hexdigest()})
    staged = staged_rows(parse_objects([objects(ALB[:2])], known=known, catalog=catalog))
    reports = {
        json.loads(r["blob"])["origin"]: json.loads(r["blob"])
        for r in staged
        if r["kind"] == REPORT
    }
    assert reports[str(ALB[0])]["known"] and reports[str(ALB[0])]["rows"] == 0
    assert not reports[str(ALB[1])]["known"] and reports[str(ALB[1])]["rows"] > 0
    refs = [
        ref
        for r in staged
        if r["kind"] == ROWS
        for ref in pa.ipc.open_stream(r["blob"]).read_all().column("raw_ref").to_pylist()
    ]
    assert refs and not any(ref.startswith(str(ALB[0]) + ":") for ref in refs)


def test_rows_and_reports_name_the_object_and_its_s3_key_layout(catalog, tmp_path):
    """An object read as ``s3a://`` is named by its S3 URI, and the account and Region of its
    AWS key layout reach the rows (Spark hands the task a URI, never the original file)."""
    key = "s3a://logs/AWSLogs/111122223333/elasticloadbalancing/eu-west-3/2024/05/01/x.log"
    staged = staged_rows(parse_objects([objects(ALB[:1], [key])], catalog=catalog))
    assert {r["table"] for r in staged if r["kind"] == ROWS} == {"alb"}
    rows = pa.ipc.open_stream(next(r["blob"] for r in staged if r["kind"] == ROWS)).read_all()
    assert all(ref.startswith("s3://logs/AWSLogs/") for ref in rows.column("raw_ref").to_pylist())
    assert "eu-west-3" in rows.column("region").to_pylist()  # from the key layout


def test_decode_leaves_out_duplicate_objects():
    rows = pa.table({"raw_ref": ["a.log:1", "b.log:1", "b.log!m.log:2"], "n": [1, 2, 3]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.schema) as writer:
        writer.write(rows)
    blobs = pa.RecordBatch.from_pydict({"blob": pa.array([sink.getvalue().to_pybytes()])})
    [out] = list(decode_rows([blobs], rows.schema, drop=frozenset({"b.log"})))
    assert out.column("raw_ref").to_pylist() == ["a.log:1"]


# ---- a real local Spark -------------------------------------------------------------------


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install -e '.[dev,spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java (Spark needs Java 17+: apt-get install openjdk-17-jre-headless)"
    return None


needs_spark = pytest.mark.skipif(_spark_missing() is not None, reason=str(_spark_missing()))


@pytest.fixture(scope="module")
def spark():
    from awsir.spark.job import session

    spark = session("local[2]", app="awsir-tests")
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def both(tmp_path_factory, spark, cli):
    """The same evidence (with a duplicate under a second name) ingested by Spark and by the
    single-machine ingest."""
    from awsir.spark.job import spark_ingest

    tmp = tmp_path_factory.mktemp("spark")
    folder = evidence(tmp)
    first_ct = sorted((folder / "cloudtrail_trail").iterdir())[0]
    shutil.copyfile(first_ct, folder / "copy-of-a-trail-file.json")
    for sample in (SOURCES / "guardduty" / "samples").rglob("*.jsonl"):  # JSON columns
        if not sample.name.endswith(".expected.jsonl"):
            shutil.copyfile(sample, folder / sample.name)
    local = tmp / "local"
    done = cli("ingest", str(folder), "--case", str(local))
    assert done.returncode == 0, done.stderr
    result = spark_ingest(spark, [str(folder)], str(tmp / "spark"))
    return {"folder": folder, "local": local, "spark": tmp / "spark", "result": result}


def _views(case: Path) -> dict[str, tuple[list, list]]:
    """Every view's column types and sorted rows (ingest times and batch ids left out)."""
    con = duckdb.connect(str(case / "catalog.duckdb"), read_only=True)
    con.execute(f"SET file_search_path = '{case}'")
    con.execute("SET TimeZone = 'UTC'")
    out = {}
    names = [n for (n,) in con.sql("SELECT table_name FROM information_schema.tables").fetchall()]
    for name in names:
        described = con.sql(f'DESCRIBE "{name}"').fetchall()
        columns = [c for c, *_ in described if c not in ("batch", "ingested_at")]
        picked = ", ".join(f'"{c}"' for c in columns)
        rows = con.sql(f'SELECT {picked} FROM "{name}"').to_arrow_table().to_pylist()
        out[name] = ([d[:2] for d in described], sorted(map(repr, rows)))
    con.close()
    return out


@needs_spark
def test_spark_case_equals_the_single_machine_case(both):
    """Every view (each table, events, OCSF, quarantine, ingested): same columns, same types,
    same rows. The duplicate object is held once."""
    local, spark = _views(both["local"]), _views(both["spark"])
    assert set(spark) == set(local)
    for name in local:
        assert spark[name][0] == local[name][0], name
        assert spark[name][1] == local[name][1], name
    assert both["result"].skipped_files == 1  # the copy: same content, one copy in the case
    assert sum(both["result"].per_source.values()) == len(local["events"][1]) > 50


@needs_spark
def test_spark_lake_has_the_same_layout_and_sort_order(both):
    def layout(case: Path) -> set[tuple[str, ...]]:
        return {p.relative_to(case / "lake").parts[:-1] for p in (case / "lake").rglob("*.parquet")}

    assert layout(both["spark"]) == layout(both["local"])
    names = [p.name for p in (both["spark"] / "lake").rglob("*.parquet")]
    batch = both["result"].batch
    assert all(n.startswith(f"part-{batch}-") for n in names)
    key = "(" + ", ".join(CLUSTER_BY) + ")"
    files = [str(p) for p in (both["spark"] / "lake").rglob("*.parquet")]
    [(rows, out_of_order)] = duckdb.sql(
        f"SELECT count(*), count(*) FILTER (WHERE k < previous) FROM ("
        f"SELECT {key} AS k, lag({key}) OVER (PARTITION BY filename ORDER BY file_row_number) "
        f"AS previous FROM read_parquet({files!r}, filename = true, file_row_number = true,"
        " hive_partitioning = false, union_by_name = true))"
    ).fetchall()
    assert rows > 50 and out_of_order == 0
    assert not list((both["spark"] / "staging").iterdir())
    assert (
        "CREATE EXTERNAL TABLE IF NOT EXISTS awsir.`cloudtrail`"
        in (both["spark"] / "athena.sql").read_text()
    )


@needs_spark
def test_spark_ingest_again_adds_nothing(both, spark, tmp_path, cli):
    from awsir.spark.job import spark_ingest

    case = tmp_path / "case"
    shutil.copytree(both["spark"], case)
    again = spark_ingest(spark, [str(both["folder"])], str(case))
    assert again.new_files == 0 and again.batch is None
    assert again.skipped_files == both["result"].new_files + both["result"].skipped_files
    [row] = query(cli, case, "SELECT count(*) AS n FROM events")
    assert row["n"] == sum(both["result"].per_source.values())


@needs_spark
def test_a_case_given_as_a_uri_goes_through_hadoop(both, spark, tmp_path):
    """A case named by URI (as on S3 or HDFS) is written through Hadoop's FileSystem: the same
    lake, registry and quarantine; no DuckDB catalog (it is not on this machine)."""
    from awsir.spark.job import spark_ingest

    alb = both["folder"] / "alb"
    result = spark_ingest(spark, [alb.as_uri()], (tmp_path / "remote").as_uri())
    assert result.new_files == len(list(alb.iterdir())) and result.batch
    [entry] = (tmp_path / "remote" / "registry").glob("*.json")
    registered = json.loads(entry.read_text())
    assert {f["path"] for f in registered["files"]} == {str(p) for p in alb.iterdir()}
    assert all((tmp_path / "remote" / f).is_file() for f in registered["lake"]["alb"])
    assert not (tmp_path / "remote" / "catalog.duckdb").exists()


@needs_spark
@pytest.mark.parametrize("crash_at", ["moving"])
def test_killed_spark_ingest_is_finished_by_the_next(both, tmp_path, crash_at, cli):
    """SIGKILL in the middle of the moves (after the journal): the next ingest finishes the
    commit, and the case ends with exactly the rows of a clean ingest."""
    folder = tmp_path / "alb"
    shutil.copytree(both["folder"] / "alb", folder)
    case = tmp_path / "case"
    env = {**os.environ, "AWSIR_CRASH_AT": crash_at}
    killed = cli("spark-ingest", str(folder), "--case", str(case), "--master", "local[1]", env=env)
    assert killed.returncode == -9, killed.stderr
    assert (case / "journal.json").exists()
    done = cli("spark-ingest", str(folder), "--case", str(case), "--master", "local[1]")
    assert done.returncode == 0, done.stderr
    assert "finished committing batch" in done.stderr and "0 new file(s)" in done.stderr
    [row] = query(cli, case, "SELECT count(*) AS n, count(DISTINCT raw_ref) AS d FROM alb")
    want = query(cli, both["local"], "SELECT count(*) AS n FROM alb")[0]["n"]
    assert row["n"] == row["d"] == want


@needs_spark
def test_cli_names_a_missing_input(tmp_path, cli):
    result = cli("spark-ingest", str(tmp_path / "nope"), "--case", str(tmp_path / "case"))
    assert result.returncode == 1
    assert "cannot read the input" in result.stderr and "nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_gzip_objects_are_read_like_local_files(catalog, tmp_path):
    packed = tmp_path / (ALB[0].name + ".gz")
    packed.write_bytes(gzip.compress(ALB[0].read_bytes()))
    plain = staged_rows(parse_objects([objects(ALB[:1])], catalog=catalog))
    zipped = staged_rows(parse_objects([objects([packed])], catalog=catalog))

    def count(rows: list[dict]) -> int:
        return sum(json.loads(r["blob"])["rows"] for r in rows if r["kind"] == REPORT)

    assert count(plain) == count(zipped) > 0
