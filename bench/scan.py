"""Benchmark the readiness scan: `awsir scan` of the emulated account in a local moto server.

    .venv/bin/python bench/scan.py [--rounds N]

Builds the emulated account (``awsir.emulated``: two Regions with resources and known gaps),
then times the whole CLI (a fresh process: import, inventory, all checks, report) three ways:
the two Regions the account uses, every Region the emulator reports as enabled, and the checks
alone from a saved snapshot. Prints wall time, calls made and verdicts. The issue's yardstick is
Prowler's logging checks on an equivalent account on this machine: about 30 s with retries off
and about 130 s with its defaults (Prowler is not installed here; the figure is the issue's).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from moto.server import ThreadedMotoServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto logs every request and error
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
           "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip
    os.environ.update(env)
    from awsir import emulated
    from awsir.findings import Severity
    from awsir.readiness.engine import WEIGHTS

    emulated.build()
    work = Path(tempfile.mkdtemp(prefix="awsir-scan-bench-"))
    snapshot = work / "snapshot.json"
    runs = {
        "2 Regions": ["--regions", ",".join(emulated.REGIONS)],
        "every enabled Region": [],
        "checks from the snapshot": ["--from-snapshot", str(snapshot)],
    }
    print(f"awsir scan of the emulated account (moto on 127.0.0.1:{port}), best of {args.rounds}")
    print(f"{'scan':28} {'wall s':>8} {'Regions':>8} {'calls':>7} {'verdicts':>9} {'score':>6}")
    for name, extra in runs.items():
        best = float("inf")
        for _ in range(args.rounds):
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "awsir", "scan", "--json", "--no-keep",
                 "--snapshot-out", str(work / "last.json"), *extra],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
            best = min(best, time.perf_counter() - start)
            if done.returncode != 0:
                sys.exit(f"{name}: awsir scan failed:\n{done.stderr[-2000:]}")
        if not snapshot.exists():  # the 2-Region inventory feeds the offline run
            snapshot.write_bytes((work / "last.json").read_bytes())
        verdicts = [json.loads(line) for line in done.stdout.splitlines()]
        inventory = json.loads((work / "last.json").read_text())["accounts"][0]
        calls = sum(len(v) if "ok" not in v and "error" not in v else 1
                    for region in inventory["calls"].values() for v in region.values())  # fmt: skip
        counted = [
            (WEIGHTS[Severity(v["severity"])], v["status"])
            for v in verdicts
            if v["status"] in ("pass", "fail", "unknown")
        ]  # the engine's formula
        score = round(100 * sum(w for w, s in counted if s == "pass") / sum(w for w, _ in counted))
        print(f"{name:28} {best:8.2f} {len(inventory['regions']):8} {calls:7} "
              f"{len(verdicts):9} {score:6}")  # fmt: skip
    print("\nyardstick (issue 5): Prowler's logging checks, ~30 s retries off, ~130 s defaults")
    server.stop()


if __name__ == "__main__":
    main()
