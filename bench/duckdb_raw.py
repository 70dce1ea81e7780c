"""Run one DuckDB statement (a raw read of log files copied to Parquet) and report the row count.

Run by ``bench/run.py`` in its own process, so its peak memory is its own; the statement is built
there, from awsir's field definitions. Prints one JSON object on stdout.

    .venv/bin/python bench/duckdb_raw.py --threads 2 "COPY (SELECT * FROM read_csv(...)) TO 'x.parquet' ..."
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sql")
    parser.add_argument("--threads", type=int, default=0, help="0: DuckDB's default (all cores)")
    args = parser.parse_args()
    started = time.perf_counter()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    row = con.execute(args.sql).fetchone()
    json.dump(
        {
            "rows": int(row[0]) if row else 0,
            "seconds_inside": time.perf_counter() - started,
            "duckdb": duckdb.__version__,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
