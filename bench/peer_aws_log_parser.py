"""Iterate every record of a folder of AWS log files with aws-log-parser (PyPI), as its users do.

Run by ``bench/run.py`` with the interpreter of ``bench/.venv`` (aws-log-parser and its
dependencies stay out of awsir's environment); prints one JSON object on stdout.

    bench/.venv/bin/python bench/peer_aws_log_parser.py alb bench/data/alb [--budget SECONDS]

Files are read the way ``AwsLogParser.read_file`` reads them (``FileIterator``, gzip by suffix)
and every parsed entry is materialised. When the parser raises on a record, its generator is dead:
the failure is counted, and parsing resumes at the next line of the same file (the line iterator
is shared), so one bad record costs one record, not the rest of the file. ``--budget`` stops after
that many seconds (reported as partial) so a slow format does not hold up the whole run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from aws_log_parser import AwsLogParser, LogType
from aws_log_parser.io import FileIterator

LOG_TYPES = {
    "alb": LogType.LoadBalancer,
    "elb_classic": LogType.ClassicLoadBalancer,
    "cloudfront": LogType.CloudFront,
    "waf": LogType.WAF,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("format", choices=sorted(LOG_TYPES))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--budget", type=float, default=0.0, help="seconds; 0: no limit")
    args = parser.parse_args()
    started = time.perf_counter()
    alp = AwsLogParser(log_type=LOG_TYPES[args.format])
    files = sorted(p for p in args.folder.rglob("*") if p.is_file())
    events = failed = files_done = 0
    reasons: Counter[str] = Counter()
    examples: dict[str, str] = {}
    partial = False
    for path in files:
        lines = iter(FileIterator(path, gzipped=path.suffix == ".gz"))
        while True:
            try:
                for _entry in alp.parse(lines):
                    events += 1
                break
            except Exception as exc:  # noqa: BLE001 - the peer's own failure on a record: count it
                failed += 1
                reason = f"{type(exc).__name__}: {str(exc)[:120]}"
                key = type(exc).__name__ + " " + _where(exc)
                reasons[key] += 1
                examples.setdefault(key, reason)
        files_done += 1
        if args.budget and time.perf_counter() - started > args.budget:
            partial = files_done < len(files)
            break
    elapsed = time.perf_counter() - started
    json.dump(
        {
            "events": events,
            "failed": failed,
            "files": files_done,
            "files_total": len(files),
            "partial": partial,
            "seconds_inside": elapsed,
            "failures": [{"where": k, "count": c, "example": examples[k]} for k, c in reasons.most_common()],
        },
        sys.stdout,
    )


def _where(exc: BaseException) -> str:
    """The peer's function that raised (``to_python``, ``from_json``...), to group failures."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        if "aws_log_parser" in tb.tb_frame.f_code.co_filename or "dataclasses_json" in tb.tb_frame.f_code.co_filename:
            last = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return f"in {last}" if last else ""


if __name__ == "__main__":
    main()
