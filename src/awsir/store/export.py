"""``awsir export``: a case's events for other tools, streamed by DuckDB (never all in memory).

- ``csv`` and ``jsonl``: any query's rows (default: every event, in time order);
- ``timesketch``: JSON lines with Timesketch's required ``message``, ``datetime`` (ISO 8601)
  and ``timestamp_desc``, plus every other column
  (https://timesketch.org/guides/user/import-from-json-csv/);
- ``athena``: ``CREATE EXTERNAL TABLE`` statements for the lake once it is copied to S3, with
  the partition keys of its folders and partition projection, so Athena (or Trino, Spark SQL)
  queries the same Parquet files (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from awsir.parse.sql import ident, literal
from awsir.store.layout import EVENTS, PARTITIONS

FORMATS = ("csv", "jsonl", "timesketch", "ocsf", "athena")
DEFAULT_QUERY = f"SELECT * FROM {EVENTS} ORDER BY time NULLS LAST, source, raw_ref"

_HIVE_TYPES = {
    "VARCHAR": "string", "JSON": "string", "BIGINT": "bigint", "INTEGER": "int",
    "DOUBLE": "double", "FLOAT": "float", "BOOLEAN": "boolean", "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamp", "TIMESTAMP": "timestamp",
}  # fmt: skip


def export_rows(con: duckdb.DuckDBPyConnection, fmt: str, target: Path, query: str) -> int:
    """Write the rows of ``query`` to ``target``; the number of rows (COPY reports it: the
    query runs once)."""
    if fmt == "timesketch":
        query = (
            "SELECT message, strftime(time, '%Y-%m-%dT%H:%M:%S.%fZ') AS datetime, "
            "epoch_us(time) AS timestamp, "
            "coalesce(source, 'event') || ' time' AS timestamp_desc, * EXCLUDE (message, time) "
            f"FROM ({query}) WHERE time IS NOT NULL"
        )
    options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT json"
    options += ", TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%fZ'"  # ISO 8601, UTC
    [(rows,)] = con.execute(f"COPY ({query}) TO {literal(str(target))} ({options})").fetchall()
    return int(rows)


def athena_ddl(con: duckdb.DuckDBPyConnection, location: str, database: str = "awsir") -> str:
    """DDL for every table of the case, over ``location`` (``s3://bucket/prefix/lake``)."""
    tables = [
        name
        for (name,) in con.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW' "
            f"AND table_name NOT IN ('{EVENTS}', 'quarantine') "
            "AND NOT starts_with(table_name, 'ocsf_') ORDER BY 1"
        ).fetchall()
    ]
    base = location.rstrip("/")
    statements = [f"CREATE DATABASE IF NOT EXISTS {database};"]
    for table in tables:
        columns = con.sql(f"DESCRIBE {ident(table)}").fetchall()
        body = ",\n".join(
            f"  `{name}` {_hive_type(kind)}" for name, kind, *_ in columns if name not in PARTITIONS
        )
        where = f"{base}/{table}"
        statements.append(
            f"CREATE EXTERNAL TABLE IF NOT EXISTS {database}.`{table}` (\n{body}\n)\n"
            "PARTITIONED BY (`account_id` string, `region` string, `day` date)\n"
            f"STORED AS PARQUET\nLOCATION '{where}/'\nTBLPROPERTIES (\n"
            "  'projection.enabled' = 'true',\n"
            "  'projection.account_id.type' = 'injected',\n"
            "  'projection.region.type' = 'injected',\n"
            "  'projection.day.type' = 'date',\n"
            "  'projection.day.format' = 'yyyy-MM-dd',\n"
            "  'projection.day.range' = '2000-01-01,NOW',\n"
            f"  'storage.location.template' = "
            f"'{where}/account_id=${{account_id}}/region=${{region}}/day=${{day}}/'\n);"
        )
    return "\n\n".join(statements) + "\n"


def _hive_type(kind: str) -> str:
    if kind.endswith("[]"):
        return f"array<{_hive_type(kind[:-2])}>"
    return _HIVE_TYPES.get(kind, "string")
