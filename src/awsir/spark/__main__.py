"""``python -m awsir.spark PATH... --case URI``: the Spark ingest as a ``spark-submit`` job.

    job=$(python -c 'import awsir.spark.__main__ as m; print(m.__file__)')
    spark-submit --master yarn "$job" s3://logs-bucket/AWSLogs/ --case s3://evidence/case-42

The master and resources come from ``spark-submit``; every executor needs awsir installed.
"""

from __future__ import annotations

import argparse
import sys

from awsir.spark.job import SparkIngestError, session, spark_ingest
from awsir.store.case import CaseError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m awsir.spark", description="Ingest log files into an awsir case on Spark."
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="Hadoop paths or URIs to read")
    parser.add_argument("--case", required=True, help="the case: a folder or a URI")
    parser.add_argument("--master", default=None, help="Spark master (default: spark-submit's)")
    args = parser.parse_args(argv)
    spark = session(args.master)
    try:
        result = spark_ingest(spark, args.paths, args.case)
    except (SparkIngestError, CaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    events = sum(result.per_source.values())
    print(
        f"{result.new_files} new file(s), {result.skipped_files} already in the case; "
        f"{events} events, {result.quarantined} quarantined; batch {result.batch}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
