"""Benchmark the Spark ingest against the single-machine ingest, on the same files, in one run.

    .venv/bin/python bench/spark.py [--formats alb,vpc_flow,cloudtrail] [--master local[2]]

Both read the generated data of ``bench/run.py`` (``bench/data/``, generated on first use) into
a fresh case each: ``awsir ingest`` (one worker process per core) and ``awsir spark-ingest``
(Spark in local mode: the JVM plus Python workers). Prints wall and CPU seconds and the peak RSS
of the whole process tree (sampled every 0.2 s), events/s and the ratio, and checks that both
cases hold the same events.
Spark in local mode on one machine pays for its JVM, its shuffle and its commit; it is there
for clusters, where it scales with the executors. This run says what that costs per machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import lake  # noqa: E402  (ensure_data: the generated files, made once)
import run  # noqa: E402  (run_child: wall, CPU and peak RSS of a child process)


def _tree(root: int) -> list[int]:
    """``root`` and all its live descendants (from /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def run_tree(cmd: list[str]) -> tuple[int, str, float, float, float]:
    """(exit code, stderr, wall s, CPU s, peak RSS MB) of a command and every process it starts
    (Spark's JVM and Python workers are not waited-for children, so rusage misses them): the
    tree is sampled every 0.2 s; CPU is what the tree's processes had used when last seen."""
    tick = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=run.REPO)
        cpu: dict[int, float] = {}
        peak = 0.0
        while child.poll() is None:
            rss = 0
            for pid in _tree(child.pid):
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                cpu[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
                rss += int(fields[21]) * page
            peak = max(peak, rss / (1 << 20))
            time.sleep(0.2)
        wall = time.monotonic() - started
        err.seek(0)
        return child.returncode, err.read().decode(errors="replace"), wall, sum(cpu.values()), peak


def events_in(case: Path) -> int:
    code, out, err, *_ = run.run_child(
        [sys.executable, "-m", "awsir", "query", "SELECT count(*) AS n FROM events",
         "--case", str(case), "--format", "json"]
    )  # fmt: skip
    if code != 0:
        raise SystemExit(f"query failed: {err.strip()}")
    return int(json.loads(out.splitlines()[0])["n"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="alb,vpc_flow,cloudtrail")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    parser.add_argument("--events", type=int, default=1_000_000, help="per line format")
    parser.add_argument("--cloudtrail-events", type=int, default=300_000)
    args = parser.parse_args(argv)
    formats = args.formats.split(",")
    manifest = lake.ensure_data(args.data, args.events, args.cloudtrail_events)
    inputs = [str(args.data / f) for f in formats]
    expected = sum(manifest["formats"][f]["events"] for f in formats)
    results = {}
    with tempfile.TemporaryDirectory(prefix="awsir-bench-spark-", dir=BENCH) as tmp:
        for tool, command in (
            ("awsir ingest", ["ingest", *inputs]),
            ("awsir spark-ingest", ["spark-ingest", *inputs, "--master", args.master]),
        ):
            case = Path(tmp) / tool.replace(" ", "-")
            code, err, wall, cpu, rss = run_tree([sys.executable, "-m", "awsir", *command, "--case", str(case)])
            if code != 0:
                raise SystemExit(f"{tool} failed ({code}): {err.strip()[-2000:]}")
            held = events_in(case)
            results[tool] = {"wall_s": wall, "cpu_s": cpu, "rss_mb": rss, "events": held}
            shutil.rmtree(case)
    print(f"{expected:,} generated events ({', '.join(formats)}) in {args.data}")
    print(f"{'tool':<20} {'wall s':>8} {'CPU s':>8} {'tree RSS MB':>12} {'events/s':>10} events")
    for tool, r in results.items():
        print(
            f"{tool:<20} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} {r['rss_mb']:>12,.0f} "
            f"{r['events'] / r['wall_s']:>10,.0f} {r['events']:,}"
        )
    local, spark = results["awsir ingest"], results["awsir spark-ingest"]
    print(f"spark / local wall time: {spark['wall_s'] / local['wall_s']:.2f}x")
    same = local["events"] == spark["events"]
    print("same events in both cases:", "yes" if same else "NO")
    out = BENCH / "results" / f"spark-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"formats": formats, "results": results}, indent=1))
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
