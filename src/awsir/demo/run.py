"""``awsir demo``: the whole chain on an emulated account, with the commands a responder runs
against real AWS (the same CLI, the same code paths, only the endpoint differs).

1. A moto server on 127.0.0.1 (a free port) in this process; the emulated account
   (:mod:`awsir.emulated`) and the intrusion (:mod:`awsir.demo.story`) written into it.
2. ``awsir scan``: readiness, recorded in the case's history, with the log-location map.
3. ``awsir collect --locations ... --ingest``: the incident window, from where the scan found
   the logs, into the case.
4. ``awsir hunt`` and ``awsir detect``.
5. The incident summary (:mod:`awsir.demo.summary`), then the commands to explore further.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from awsir.demo.story import Cast, plant
from awsir.emulated import REGIONS, build, moto_server

RESPONDER = "arn:aws:iam::123456789012:role/Responder"
EMULATED_SOURCES = (
    "cloudtrail_trail",
    "vpc_flow",
    "route53_resolver_query",
    "s3_access",
    "waf",
    "securityhub",
    "cloudwatch_logs",
)
"""What the demo collects: moto emulates neither CloudTrail LookupEvents nor GuardDuty's findings
API (the findings reach the case through Security Hub, as many organizations route them)."""


class DemoError(RuntimeError):
    """A step of the demo failed; the message names the step and what it printed."""


def _awsir(step: str, *args: str) -> str:
    """Run ``awsir ARGS`` as a user would; its output, or :class:`DemoError` naming the step."""
    done = subprocess.run(
        [sys.executable, "-m", "awsir", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
    )
    if done.returncode not in (0, 1) or (done.returncode == 1 and step not in ("scan", "detect")):
        raise DemoError(f"{step} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def run(case: Path, seed: int, say: Any = print) -> dict[str, Any]:
    """Build, attack, scan, collect, ingest and detect; what each step produced."""
    if (case / "catalog.duckdb").exists() or (case / "history").exists():
        raise DemoError(f"{case} already holds a case: give a new --case folder")
    case.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    day = (datetime.now(UTC) - timedelta(days=2)).date()
    # moto's server thread prints a line for each call it does not emulate (Access Analyzer...)
    with moto_server() as env, contextlib.redirect_stdout(io.StringIO()):
        session = boto3.Session(region_name=REGIONS[0])
        built = build(session)
        cast: Cast = plant(built, day, seed, session)
        say(
            f"[1/5] emulated account {built.account} in moto on {env['AWS_ENDPOINT_URL']} "
            f"({', '.join(REGIONS)}); the intrusion of {day} written into its logs"
        )
        regions = ",".join(REGIONS)
        history, report = case / "history", case / "readiness.json"
        _awsir(
            "scan",
            "scan",
            "--regions",
            regions,
            "--history",
            str(history),
            "--responder-role",
            RESPONDER,
            "-o",
            str(report),
            "-o",
            str(case / "readiness.html"),
            "--locations-out",
            str(case / "locations.json"),
            "--snapshot-out",
            str(case / "inventory.json"),
        )
        say(f"[2/5] readiness scan: {report}, {case / 'readiness.html'}")
        start, end = f"{day}T08:00:00Z", f"{day}T14:00:00Z"
        sources = [a for s in EMULATED_SOURCES for a in ("--sources", s)]
        _awsir(
            "collect",
            "collect",
            "--case",
            str(case),
            "--locations",
            str(case / "locations.json"),
            "--from",
            start,
            "--to",
            end,
            "--regions",
            regions,
            "--ingest",
            *sources,
        )
        say(f"[3/5] evidence of {start} to {end} collected (manifest, hashes) and ingested")
    hunts = json.loads(_awsir("hunt", "hunt", "--case", str(case), "--json"))
    rules = json.loads(_awsir("detect", "detect", "--case", str(case), "--no-sigmahq", "--json"))
    say(
        f"[4/5] {len(hunts['findings'])} hunt finding(s), {len(rules['findings'])} Sigma finding(s)"
    )
    return {
        "cast": cast,
        "report": json.loads(report.read_text()),
        "day": str(day),
        "seconds": time.perf_counter() - started,
        "window": (start, end),
    }
