"""Benchmark the evidence lake: ingest about 10 M generated events, then time the questions.

    .venv/bin/python bench/lake.py [--events N] [--cloudtrail-events N] [--data DIR]

Measured in one run, on one machine:
- `awsir ingest` of every generated file into a fresh case (wall, CPU, peak RSS, events/s), and
  the lake's size against the raw files';
- warm latencies (best of 3, in one process with the case's catalog open, as `awsir` runs them):
  `timeline --actor` for one principal, `pivot IP`, a free-text IOC search across every event's
  message (a count, and `timeline --text`, which also reads user agents and returns the events),
  a full-scan aggregate;
- the same questions asked of the raw files with DuckDB and no lake (the baseline): the
  principal's CloudTrail records (`read_json` + unnest), and the IOC as a substring of every raw
  line (`read_csv` of whole lines).

Targets (issue 4, 2 cores, 10 M events): timeline <= 100 ms, pivot <= 500 ms, IOC search <= 1 s,
ingest <= 3 minutes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import run  # noqa: E402  (run_child: wall, CPU and peak RSS of a child process)

TARGETS_MS = {"timeline --actor": 100, "pivot IP": 500, "IOC search": 1000, "timeline --text IOC": 1000}
LINE_FORMATS = [f for f in generate.FORMATS if f != "cloudtrail"]


def best_ms(call: Callable[[], object], rounds: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), result


def ensure_data(data: Path, events: int, cloudtrail: int) -> dict:
    manifest = generate.read_manifest(data) or {}
    wanted = {**dict.fromkeys(LINE_FORMATS, events), "cloudtrail": cloudtrail}
    have = {f: manifest.get("formats", {}).get(f, {}).get("events") for f in wanted}
    if have != wanted:
        print(f"generating {sum(wanted.values()):,} events into {data} ...", flush=True)
        generate.main(["--events", str(events), "--cloudtrail-events", str(cloudtrail), "--out", str(data)])
        manifest = generate.read_manifest(data) or {}
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_250_000, help="events per line format")
    parser.add_argument("--cloudtrail-events", type=int, default=1_250_000)
    parser.add_argument("--data", type=Path, default=BENCH / "data-lake")
    parser.add_argument("--case", type=Path, default=BENCH / "results" / "lake-case")
    args = parser.parse_args(argv)
    manifest = ensure_data(args.data, args.events, args.cloudtrail_events)
    events = sum(f["events"] for f in manifest["formats"].values())
    raw_bytes = sum(p.stat().st_size for p in args.data.rglob("*") if p.is_file())
    shutil.rmtree(args.case, ignore_errors=True)
    run.warm(args.data, list(manifest["formats"]))
    code, _, err, wall, cpu, rss = run.run_child(
        [sys.executable, "-m", "awsir", "ingest", str(args.data), "--case", str(args.case)]
    )
    if code != 0:
        sys.exit(f"awsir ingest failed ({code}):\n{err[-2000:]}")
    lake_bytes = sum(p.stat().st_size for p in (args.case / "lake").rglob("*.parquet"))
    results: dict[str, object] = {
        "events": events, "ingest_s": round(wall, 1), "ingest_cpu_s": round(cpu, 1),
        "ingest_rss_mb": round(rss), "ingest_events_per_s": round(events / wall),
        "raw_mb": round(raw_bytes / 2**20), "lake_mb": round(lake_bytes / 2**20),
    }  # fmt: skip

    import duckdb

    from awsir.store.case import Case
    from awsir.store.catalog import open_case
    from awsir.store.investigate import Subject, pivot, timeline

    con = open_case(Case(args.case))
    actors = con.sql(
        "SELECT actor, count(*) AS n FROM cloudtrail WHERE starts_with(actor, 'arn:') GROUP BY 1 ORDER BY 2, 1"
    ).fetchall()
    actor, actor_events = actors[len(actors) // 2]
    [(ip, ip_events)] = con.sql(
        "SELECT src_ip, count(*) FROM events WHERE src_ip IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1 OFFSET 100"
    ).fetchall()
    ioc = ip  # an address, as a responder would search for one
    lake = {
        "timeline --actor": best_ms(lambda: timeline(con, Subject(actor=actor), 100_000).num_rows),
        "pivot IP": best_ms(lambda: len(pivot(con, ip)["seen"])),
        "IOC search": best_ms(
            lambda: con.sql(f"SELECT count(*) FROM events WHERE contains(message, '{ioc}')").fetchall()
        ),
        "timeline --text IOC": best_ms(lambda: timeline(con, Subject(text=[ioc]), 100_000).num_rows),
        "full-scan aggregate": best_ms(lambda: con.sql("SELECT source, count(*) FROM events GROUP BY 1").fetchall()),
    }
    raw = duckdb.connect()
    trail = str(args.data / "cloudtrail" / "**" / "*.json.gz")
    everything = [str(p) for p in args.data.rglob("*") if p.is_file() and p.name != "manifest.json"]
    baseline = {
        "timeline --actor": best_ms(
            lambda: raw.sql(
                "SELECT count(*) FROM (SELECT unnest(Records) AS r FROM read_json("
                f"'{trail}', maximum_object_size = 268435456)) WHERE r.userIdentity.arn = '{actor}'"
            ).fetchall(),
            1,
        ),
        "IOC search": best_ms(
            lambda: raw.sql(
                f"SELECT count(*) FROM read_csv({everything!r}, columns = {{'line': 'VARCHAR'}}, "
                "delim = '\\x01', quote = '', escape = '', header = false, auto_detect = false, "
                f"max_line_size = 268435456) WHERE contains(line, '{ioc}')"
            ).fetchall(),
            1,
        ),
    }
    print(f"\nawsir lake benchmark: {events:,} events ({', '.join(manifest['formats'])})")
    print(f"ingest: {wall:.1f} s wall, {cpu:.1f} CPU s, peak RSS {rss:,.0f} MB, "
          f"{events / wall:,.0f} events/s (target: <= 180 s)")  # fmt: skip
    print(f"size: raw files {raw_bytes / 2**20:,.0f} MB, lake {lake_bytes / 2**20:,.0f} MB")
    print(f"subjects: actor {actor} ({actor_events:,} events), IP {ip} ({ip_events:,} events)")
    print(f"\n{'question':22} {'lake ms':>9} {'raw DuckDB ms':>14} {'target ms':>10}")
    for name, (ms, _) in lake.items():
        base = baseline.get(name) or baseline.get(name.replace("timeline --text IOC", "IOC search"))
        target = TARGETS_MS.get(name)
        verdict = ("met" if ms <= target else "NOT met") if target else ""
        print(f"{name:22} {ms:9.0f} {base[0] if base else float('nan'):14.0f} "
              f"{target if target else '':>10} {verdict}")  # fmt: skip
        results[name] = {"lake_ms": round(ms), "raw_ms": round(base[0]) if base else None}
    out = BENCH / "results" / f"lake-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
