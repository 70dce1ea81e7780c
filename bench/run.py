"""Benchmark awsir against aws-log-parser and raw DuckDB, on the same generated AWS log files.

    .venv/bin/python bench/run.py                       # 1M events per line format, 300k CloudTrail
    .venv/bin/python bench/run.py --events 200000 --formats alb,cloudtrail --peer-budget 60

One run, same files, each tool in its own process (so wall time and peak RSS are per tool,
taken from ``os.wait4``):

* **awsir**, end to end: ``awsir parse DIR -o OUT --out parquet`` (raw .gz in, typed zstd Parquet
  out), then checked: rows + quarantined == events generated, quarantine reasons, and per column
  the number of non-null values against what the generator wrote (``manifest.json``).
* **aws-log-parser** (PyPI, in its own venv ``bench/.venv``, created on first use) on the formats
  it supports (ALB, Classic ELB, CloudFront, WAF): every record of the same files; records it
  raises on are counted and reported.
* **DuckDB raw**, no normalisation, streamed to zstd Parquet: ``read_csv`` (all VARCHAR) for
  text formats, ``read_json`` auto-detect for JSON lines and CloudTrail, and for CloudTrail the
  fast route (each file read as one line with ``read_csv``, ``from_json`` + unnest ``Records``).

Prints one table per format and the ratios; writes everything to ``bench/results/*.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PEER_VENV = BENCH / ".venv"
PEER_PY = PEER_VENV / "bin" / "python"
PEER_FORMATS = ("alb", "elb_classic", "cloudfront", "waf")
TEXT_FORMATS = ("alb", "elb_classic", "s3_access", "vpc_flow", "cloudfront")
JSON_LINES = ("waf", "route53_resolver")
TARGET_RSS_MB = 1500

sys.path.insert(0, str(BENCH))
import generate  # noqa: E402  (bench/generate.py: format list, data layout, manifest)


@dataclass
class Measure:
    format: str
    tool: str
    events: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    input_mb: float = 0.0
    ok: bool = True
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.input_mb / self.seconds if self.seconds else 0.0


# --------------------------------------------------------------------------------------------
# Running a tool in its own process
# --------------------------------------------------------------------------------------------


# Linux carries a process's RSS high-water mark across fork and exec: a child forked from this
# (large) process would report at least this process's RSS as its own peak. So children are
# started by a minimal launcher (python -S, ~10 MB), which forks the tool, waits for it with
# wait4 (that child's own rusage) and writes wall time, CPU time and peak RSS to a file.
LAUNCHER = r"""
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(report, "w") as fh:
    fh.write(f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(cmd: list[str]) -> tuple[int, str, str, float, float, float]:
    """(exit code, stdout, stderr, wall s, cpu s, peak RSS MB) of one child process."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rusage") as report,
    ):
        launcher = [sys.executable, "-S", "-c", LAUNCHER, report.name, *cmd]
        code = subprocess.run(launcher, stdout=out, stderr=err, cwd=REPO, check=False).returncode
        out.seek(0)
        err.seek(0)
        wall, cpu, rss_kb = (float(x) for x in (report.read().split() or [0, 0, 0]))
        return (
            code,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            wall,
            cpu,
            rss_kb / 1024,
        )


def measure(fmt: str, tool: str, cmd: list[str], repeat: int, input_mb: float) -> tuple[Measure, str, str]:
    runs = [run_child(cmd) for _ in range(repeat)]
    code, stdout, stderr, *_ = runs[-1]
    walls = [r[3] for r in runs]
    m = Measure(
        fmt,
        tool,
        seconds=statistics.median(walls),
        cpu_seconds=statistics.median(r[4] for r in runs),
        peak_rss_mb=max(r[5] for r in runs),
        input_mb=input_mb,
    )
    if repeat > 1:
        m.details["walls"] = [round(w, 2) for w in walls]
    if code != 0:
        m.ok = False
        tail = stderr.strip().splitlines()[-3:] if stderr.strip() else ["(no stderr)"]
        m.notes.append(f"exit code {code}: " + " | ".join(tail))
    return m, stdout, stderr


# --------------------------------------------------------------------------------------------
# awsir
# --------------------------------------------------------------------------------------------


def awsir_parse_args(source: Path, target: Path) -> list[str]:
    """``-m awsir parse SOURCE -o TARGET --out parquet``: the run a responder would make."""
    return ["-m", "awsir", "parse", str(source), "-o", str(target), "--out", "parquet"]


def run_awsir(fmt: str, data: Path, out: Path, manifest: dict, repeat: int, keep: bool) -> Measure:
    info = manifest["formats"][fmt]
    target = out / "awsir" / fmt
    cmd = [sys.executable, *awsir_parse_args(data / fmt, target)]
    shutil.rmtree(target, ignore_errors=True)
    m, _, stderr = measure(fmt, "awsir", cmd, repeat, info["raw_bytes"] / 1e6)
    check_awsir_output(m, fmt, target, info, stderr)
    if not keep:
        shutil.rmtree(target, ignore_errors=True)
    return m


def check_awsir_output(m: Measure, fmt: str, target: Path, info: dict, stderr: str) -> None:
    """Rows, quarantine and per-column non-null counts against what the generator wrote."""
    import duckdb
    import pyarrow.parquet as pq

    from awsir.catalog import load_catalog

    # awsir writes a folder of part files per table (one per worker) and quarantine/part-*.jsonl
    parts = sorted(target.glob("*/part-*.parquet")) if target.exists() else []
    rows: Counter[str] = Counter()
    for part in parts:
        rows[part.parent.name] += pq.ParquetFile(part).metadata.num_rows
    m.events = rows.get(fmt, 0)
    other = {k: v for k, v in rows.items() if k != fmt}
    if other:
        m.notes.append(f"rows went to other tables: {other}")
    reasons: Counter[str] = Counter()
    for quarantine in sorted(target.glob("quarantine/part-*.jsonl")):
        with quarantine.open() as fh:
            for line in fh:
                entry = json.loads(line)
                reasons[str(entry.get("reason"))[:100]] += 1
    quarantined = sum(reasons.values())
    m.details.update(rows=m.events, quarantined=quarantined, quarantine_reasons=dict(reasons.most_common(10)))
    problems = [ln for ln in stderr.splitlines() if ": " in ln and not ln.startswith(("wrote ", "error"))][:5]
    if problems:
        m.details["stderr_problems"] = problems
    if quarantined:
        m.notes.append(f"{quarantined:,} quarantined: " + "; ".join(f"{c:,}x {r}" for r, c in reasons.most_common(3)))
    total = sum(rows.values()) + quarantined
    if total != info["events"]:
        m.notes.append(f"rows + quarantined = {total:,}, generated {info['events']:,}")
    if fmt not in rows:
        return
    # non-null values per column: the generator's count for the AWS field vs a count of the output
    # (awsir writes min/max/null statistics for times and numbers only, so count by scanning)
    source = load_catalog().sources[info["source"]]
    table = source.parse.tables[fmt]
    meta = pq.ParquetFile(next((target / fmt).glob("part-*.parquet"))).metadata
    names = [meta.schema.column(i).path for i in range(meta.num_columns)]
    [counted] = duckdb.sql(
        "SELECT " + ", ".join(f'count("{n}")' for n in names) + f" FROM read_parquet('{target / fmt}/part-*.parquet')"
    ).fetchall()
    nulls: Counter[str] = Counter({n: m.events - (c or 0) for n, c in zip(names, counted or [], strict=False)})
    present = {meta.schema.column(i).path for i in range(meta.num_columns)}
    mismatches = []
    for f in table.fields:
        if f.name not in info["nonnull"]:
            continue
        for column in f.columns:
            got = m.events - nulls[column]
            if column not in present:
                mismatches.append(f"{column}: missing")
            elif got != info["nonnull"][f.name] and not quarantined:  # with quarantine, counts cannot match
                mismatches.append(f"{column}: {got:,} values, generated {info['nonnull'][f.name]:,}")
    # values: sums of int columns, and every time inside the generated window (give or take a day)
    import pyarrow.compute as pc

    wanted = {}
    for f in table.fields:
        if f.name in info.get("sums", {}):
            wanted[f.columns[-1]] = info["sums"][f.name]  # an ip_port field's last column is the port
    times = [
        f.columns[0]
        for f in table.fields
        if str(f.type) in ("timestamp", "epoch_s", "epoch_ms") and f.columns[0] in present
    ]
    read = pq.read_table(target / fmt, columns=[c for c in [*wanted, *times] if c in present])
    for column, total in wanted.items():
        if column in read.column_names and not quarantined:
            got = pc.sum(read.column(column)).as_py() or 0
            if got != total:
                mismatches.append(f"{column}: sum {got:,}, generated {total:,}")
    low, high = (info["window"][0] - 86400, info["window"][1] + 86400) if "window" in info else (None, None)
    for column in times:
        values = read.column(column)
        first, last = pc.min(values).as_py(), pc.max(values).as_py()
        if low is not None and first is not None and not (low <= first.timestamp() and last.timestamp() <= high):
            mismatches.append(f"{column}: times from {first} to {last}, outside the generated window")
    m.details["column_mismatches"] = mismatches
    if mismatches:
        m.notes.append(f"{len(mismatches)} column(s) with a value count unlike the input: " + "; ".join(mismatches[:4]))


# --------------------------------------------------------------------------------------------
# aws-log-parser (own venv)
# --------------------------------------------------------------------------------------------


def ensure_peer_venv() -> str | None:
    """None when bench/.venv has aws-log-parser (created here if needed), else why not."""
    probe = [str(PEER_PY), "-c", "import aws_log_parser"]
    if PEER_PY.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return None
    print(
        f"creating {PEER_VENV} with aws-log-parser (kept apart from awsir's dependencies)",
        file=sys.stderr,
    )
    base = getattr(sys, "_base_executable", sys.executable)
    steps = [
        [base, "-m", "venv", str(PEER_VENV)],
        [str(PEER_PY), "-m", "pip", "install", "-q", "aws-log-parser"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            return f"{' '.join(step[-3:])} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
    return None


def peer_version() -> str:
    done = subprocess.run(
        [str(PEER_PY), "-c", "import importlib.metadata as m; print(m.version('aws-log-parser'))"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or "?"


def run_peer(fmt: str, data: Path, manifest: dict, repeat: int, budget: float) -> Measure:
    info = manifest["formats"][fmt]
    cmd = [
        str(PEER_PY),
        str(BENCH / "peer_aws_log_parser.py"),
        fmt,
        str(data / fmt),
        "--budget",
        str(budget),
    ]
    m, stdout, _ = measure(fmt, "aws-log-parser", cmd, repeat, info["raw_bytes"] / 1e6)
    try:
        result = json.loads(stdout)
    except ValueError:
        m.ok = False
        m.notes.append("no result on stdout")
        return m
    m.events = result["events"]
    m.details.update(result)
    if result["partial"]:
        # a rate over the files read within the budget: scale input MB to that share of events
        done = result["events"] + result["failed"]
        m.input_mb = info["raw_bytes"] / 1e6 * done / info["events"]
        m.notes.append(
            f"partial: {result['files']}/{result['files_total']} files, {done:,} of {info['events']:,} "
            f"records in the {budget:g} s budget"
        )
    if result["failed"]:
        m.notes.append(
            f"raised on {result['failed']:,} records: "
            + "; ".join(f"{f['count']:,}x {f['example']}" for f in result["failures"][:3])
        )
    return m


# --------------------------------------------------------------------------------------------
# DuckDB raw reads, streamed to Parquet
# --------------------------------------------------------------------------------------------


def sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def duckdb_routes(fmt: str, data: Path, target: Path) -> dict[str, str]:
    """route name -> statement returning the number of rows written."""
    from awsir.catalog import load_catalog

    files = sql_list(sorted(p for p in (data / fmt).rglob("*") if p.is_file()))
    source = load_catalog().sources[generate.FORMATS[fmt][0]]
    table = source.parse.tables[fmt]
    names = list(generate.field_names(fmt))
    copy = "COPY ({select}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)"

    def out(route: str) -> str:
        return str(target / f"{fmt}.{route}.parquet")

    if fmt in TEXT_FORMATS:
        if fmt == "s3_access":
            names.insert(names.index("Time") + 1, "Time offset")  # [06/Feb/2019:00:00:38 +0000] splits in two
        columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
        if fmt == "vpc_flow":
            options = "delim=' ', header=true, all_varchar=true"
        elif fmt == "cloudfront":
            options = f"delim='\t', skip=2, quote='', escape='', header=false, auto_detect=false, columns={columns}"
        else:
            options = f"delim=' ', quote='\"', escape='\"', header=false, auto_detect=false, columns={columns}"
        return {"read_csv": copy.format(select=f"SELECT * FROM read_csv({files}, {options})", out=out("read_csv"))}
    if fmt in JSON_LINES:
        select = f"SELECT * FROM read_json({files}, format='newline_delimited')"
        return {"read_json": copy.format(select=select, out=out("read_json"))}
    if fmt == "cloudtrail":
        big = 1 << 28
        auto = (
            f"SELECT unnest(Records, max_depth := 2) FROM read_json({files}, format='auto', maximum_object_size={big})"
        )
        record = {f.name: ("JSON" if f.type == "json" else "VARCHAR") for f in table.fields}
        schema = json.dumps({"Records": [record]}).replace("'", "''")
        lines = (
            f"read_csv({files}, delim='\x01', quote='', escape='', header=false, auto_detect=false, "
            f"columns={{'line': 'VARCHAR'}}, max_line_size={big})"
        )
        fast = f"SELECT unnest(from_json(line, '{schema}').Records, max_depth := 2) FROM {lines}"
        return {
            "read_json": copy.format(select=auto, out=out("read_json")),
            "from_json": copy.format(select=fast, out=out("from_json")),
        }
    raise ValueError(fmt)


def run_duckdb(fmt: str, data: Path, out: Path, manifest: dict, repeat: int, threads: int, keep: bool) -> list[Measure]:
    info = manifest["formats"][fmt]
    target = out / "duckdb" / fmt
    results = []
    for route, sql in duckdb_routes(fmt, data, target).items():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        cmd = [sys.executable, str(BENCH / "duckdb_raw.py"), "--threads", str(threads), sql]
        m, stdout, _ = measure(fmt, f"duckdb {route}", cmd, repeat, info["raw_bytes"] / 1e6)
        try:
            result = json.loads(stdout)
            m.events = result["rows"]
            m.details.update(result)
        except ValueError:
            m.ok = False
        if m.ok and m.events != info["events"]:
            m.notes.append(f"{m.events:,} rows, generated {info['events']:,}")
        results.append(m)
    if not keep:
        shutil.rmtree(target, ignore_errors=True)
    return results


# --------------------------------------------------------------------------------------------
# Data, report
# --------------------------------------------------------------------------------------------


def ensure_data(args: argparse.Namespace, formats: list[str]) -> dict:
    manifest = generate.read_manifest(args.data) or {}
    fresh = (
        manifest.get("generator") == generate.GENERATOR_VERSION
        and manifest.get("seed") == args.seed
        and manifest.get("gzip_all", False) == args.gzip_all
    )
    missing = []
    for fmt in formats:
        want = args.cloudtrail_events if fmt == "cloudtrail" else args.events
        have = manifest.get("formats", {}).get(fmt) if fresh else None
        if args.regenerate or have is None or have["events"] != want or not (args.data / fmt).exists():
            missing.append(fmt)
    if missing:
        print(f"generating {', '.join(missing)} into {args.data}", file=sys.stderr)
        cmd = [
            sys.executable,
            str(BENCH / "generate.py"),
            "--formats",
            ",".join(missing),
            "--events",
            str(args.events),
            "--cloudtrail-events",
            str(args.cloudtrail_events),
            "--seed",
            str(args.seed),
            "--out",
            str(args.data),
            *(["--gzip-all"] if args.gzip_all else []),
        ]
        subprocess.run(cmd, check=True)
        manifest = generate.read_manifest(args.data) or {}
    return manifest


def warm(data: Path, formats: list[str]) -> None:
    """Read every input file once, so all tools start from a warm page cache."""
    for fmt in formats:
        for path in (data / fmt).rglob("*"):
            if path.is_file():
                with path.open("rb") as fh:
                    while fh.read(1 << 24):
                        pass


def fmt_n(value: float, digits: int = 0) -> str:
    if value >= 100_000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,.{digits}f}"


def print_report(results: list[Measure], manifest: dict, formats: list[str]) -> None:
    header = (
        f"{'tool':22} {'events':>11} {'input MB':>9} {'s':>8} {'events/s':>9} {'MB/s':>7} {'CPU s':>7} {'peak RSS':>9}"
    )
    for fmt in formats:
        info = manifest["formats"][fmt]
        rows = [r for r in results if r.format == fmt]
        if not rows:
            continue
        kind = "gzip" if info["compressed"] else "plain"
        print(
            f"\n## {fmt}: {info['events']:,} events in {info['files']} {kind} files, "
            f"{info['raw_bytes'] / 1e6:,.0f} MB uncompressed, {info['stored_bytes'] / 1e6:,.0f} MB on disk"
        )
        print(header)
        for r in rows:
            print(
                f"{r.tool:22} {r.events:>11,} {r.input_mb:>9,.0f} {r.seconds:>8.2f} {fmt_n(r.events_per_s):>9} "
                f"{r.mb_per_s:>7.1f} {r.cpu_seconds:>7.1f} {r.peak_rss_mb:>6,.0f} MB" + ("" if r.ok else "  FAILED")
            )
            for note in r.notes:
                print(f"{'':22}   ! {note}")
        for line in ratios(fmt, rows):
            print(f"  {line}")


def ratios(fmt: str, rows: list[Measure]) -> list[str]:
    by = {r.tool: r for r in rows if r.ok and r.events}
    awsir = by.get("awsir")
    if awsir is None:
        return []
    out = []
    for tool, r in by.items():
        if tool != "awsir":
            out.append(f"awsir / {tool}: {awsir.events_per_s / r.events_per_s:.2f}x events/s")
    targets = []
    if fmt in TEXT_FORMATS and "aws-log-parser" in by:
        ratio = awsir.events_per_s / by["aws-log-parser"].events_per_s
        targets.append(f">= 25x aws-log-parser: {'met' if ratio >= 25 else 'NOT met'} ({ratio:.1f}x)")
    if fmt == "cloudtrail":
        if "duckdb from_json" in by:
            ratio = awsir.events_per_s / by["duckdb from_json"].events_per_s
            targets.append(f">= DuckDB from_json route: {'met' if ratio >= 1 else 'NOT met'} ({ratio:.2f}x)")
        if "duckdb read_json" in by:
            ratio = awsir.events_per_s / by["duckdb read_json"].events_per_s
            targets.append(f">= 4x DuckDB read_json: {'met' if ratio >= 4 else 'NOT met'} ({ratio:.2f}x)")
    targets.append(
        f"peak RSS < {TARGET_RSS_MB / 1000:.1f} GB: {'met' if awsir.peak_rss_mb < TARGET_RSS_MB else 'NOT met'} "
        f"({awsir.peak_rss_mb:,.0f} MB)"
    )
    return [*out, "targets: " + "; ".join(targets)]


def markdown_table(results: list[Measure], formats: list[str]) -> str:
    """The summary table README.md carries: one line per format."""
    lines = [
        "| format | events | MB in | awsir ev/s (MB/s) | awsir RSS | aws-log-parser ev/s | RSS | DuckDB raw ev/s | RSS "
        "| awsir / aws-log-parser | awsir / DuckDB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fmt in formats:
        by = {r.tool: r for r in results if r.format == fmt}
        a = by.get("awsir")
        p = by.get("aws-log-parser")
        ducks = [r for t, r in by.items() if t.startswith("duckdb")]
        if a is None:
            continue

        def rate(r: Measure | None) -> str:
            if r is None:
                return "—"
            if not r.ok or not r.events:
                return "failed"
            return fmt_n(r.events_per_s) + ("*" if r.details.get("partial") else "")

        duck_rates = "<br>".join(f"{rate(d)} ({d.tool.split()[1]})" for d in ducks) or "—"
        duck_rss = "<br>".join(f"{d.peak_rss_mb:,.0f} MB" for d in ducks) or "—"
        vs_peer = f"{a.events_per_s / p.events_per_s:.1f}x" if p and p.ok and p.events else "—"
        vs_duck = "<br>".join(f"{a.events_per_s / d.events_per_s:.2f}x" for d in ducks if d.ok and d.events) or "—"
        lines.append(
            f"| {fmt} | {a.details.get('rows', a.events):,} | {a.input_mb:,.0f} | {rate(a)} ({a.mb_per_s:.0f}) | "
            f"{a.peak_rss_mb:,.0f} MB | {rate(p)} | {f'{p.peak_rss_mb:,.0f} MB' if p else '—'} | {duck_rates} | "
            f"{duck_rss} | {vs_peer} | {vs_duck} |"
        )
    return "\n".join(lines)


def profile_awsir(fmt: str, data: Path, out: Path, results_dir: Path) -> None:
    """awsir on one format under cProfile; prints where the time goes."""
    import pstats

    prof = results_dir / f"awsir-{fmt}.prof"
    target = out / "profile" / fmt
    shutil.rmtree(target, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "cProfile",
        "-o",
        str(prof),
        *awsir_parse_args(data / fmt, target),
        "--jobs",
        "1",  # cProfile sees one process: profile the single-process pipeline
    ]
    subprocess.run(cmd, cwd=REPO, check=False, capture_output=True)
    print(f"\n## cProfile of awsir parse on {fmt} ({prof})")
    stats = pstats.Stats(str(prof))
    stats.sort_stats("tottime").print_stats(20)
    shutil.rmtree(target, ignore_errors=True)


def environment() -> dict:
    def git(*a: str) -> str:
        done = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    import duckdb
    import pyarrow

    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
        "awsir_commit": git("rev-parse", "--short", "HEAD"),
        "awsir_tree_changes": len(git("status", "--porcelain", "--", "src").splitlines()),
        "load_average_before": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per line format (default 1,000,000)")
    parser.add_argument(
        "--cloudtrail-events",
        type=int,
        default=300_000,
        help="CloudTrail records (default 300,000)",
    )
    parser.add_argument("--formats", default=",".join(generate.FORMATS), help="comma-separated format ids")
    parser.add_argument("--tools", default="awsir,peer,duckdb", help="which of awsir, peer, duckdb to run")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", type=Path, default=BENCH / "data", help="generated logs (reused when they match)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "awsir-bench-out")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--gzip-all",
        action="store_true",
        help="gzip S3 access and Classic ELB logs too (AWS delivers them uncompressed)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and format; the median is reported")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="DuckDB threads (default: all cores)",
    )
    parser.add_argument(
        "--peer-budget",
        type=float,
        default=0,
        help="seconds per format for aws-log-parser; 0 (default): read every record",
    )
    parser.add_argument("--profile", metavar="FORMAT", help="also run awsir under cProfile on this format")
    parser.add_argument("--keep-outputs", action="store_true", help="keep the Parquet files written under --out")
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    tools = {t.strip() for t in args.tools.split(",")}
    unknown = [f for f in formats if f not in generate.FORMATS]
    if unknown:
        parser.error(f"unknown formats {unknown}; known: {', '.join(generate.FORMATS)}")

    env = environment()
    manifest = ensure_data(args, formats)
    peer_problem = ensure_peer_venv() if "peer" in tools and set(formats) & set(PEER_FORMATS) else "not requested"
    if "peer" in tools and peer_problem is None:
        env["aws_log_parser"] = peer_version()
    elif "peer" in tools:
        print(f"aws-log-parser unavailable: {peer_problem}", file=sys.stderr)
    warm(args.data, formats)
    results: list[Measure] = []
    for fmt in formats:
        print(f"[{time.strftime('%H:%M:%S')}] {fmt}", file=sys.stderr)
        if "awsir" in tools:
            results.append(run_awsir(fmt, args.data, args.out, manifest, args.repeat, args.keep_outputs))
        if "peer" in tools and peer_problem is None and fmt in PEER_FORMATS:
            results.append(run_peer(fmt, args.data, manifest, args.repeat, args.peer_budget))
        if "duckdb" in tools:
            results += run_duckdb(fmt, args.data, args.out, manifest, args.repeat, args.threads, args.keep_outputs)
    env["load_average_after"] = os.getloadavg()

    print(
        f"\n# awsir benchmark, {env['date']}, {env['cpus']} cores, Python {env['python']}, DuckDB {env['duckdb']}, "
        f"pyarrow {env['pyarrow']}, aws-log-parser {env.get('aws_log_parser', '—')}, awsir {env['awsir_commit']}"
        + (f" (+{env['awsir_tree_changes']} changed files in src/)" if env["awsir_tree_changes"] else "")
    )
    print(
        "wall time per tool process (start to exit, imports included); events/s = events / wall s; "
        "MB = uncompressed input; CPU s = user + system"
    )
    load = max(env["load_average_before"][0], env["load_average_after"][0])
    if load > 0.5 * (env["cpus"] or 1):
        print(
            f"! load average {load:.1f} on {env['cpus']} cores around the run: other processes competed; "
            "compare ratios, or re-run on a quiet machine"
        )
    print_report(results, manifest, formats)
    print("\n" + markdown_table(results, formats))

    results_dir = BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    record = {
        "environment": env,
        "args": {k: str(v) for k, v in vars(args).items()},
        "data": {k: {kk: vv for kk, vv in v.items() if kk != "nonnull"} for k, v in manifest["formats"].items()},
        "results": [{**asdict(r), "events_per_s": r.events_per_s, "mb_per_s": r.mb_per_s} for r in results],
    }
    path = results_dir / f"run-{stamp}.json"
    path.write_text(json.dumps(record, indent=1, default=str) + "\n")
    print(f"\nresults: {path}")
    if args.profile:
        profile_awsir(args.profile, args.data, args.out, results_dir)


if __name__ == "__main__":
    main()
