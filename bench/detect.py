"""Benchmark detections: every shipped Sigma rule over the 10 M-event lake of bench/lake.py.

    .venv/bin/python bench/detect.py [--case DIR] [--repeat N]

Measured in one run, on one machine, over the same case:
- `awsir detect` in a fresh process, all built-in rules (wall, CPU, peak RSS), and from its JSON
  the time of each view's single pass and of each correlation rule;
- the peer way, in process: each plain rule as its own query (one scan of its view per rule),
  the same conditions, summed, so the one-pass design is measured against its alternative;
- the upstream SigmaHQ AWS rules (../shared/sigma/aws) through `awsir detect --rules`, if present.

The case is the one bench/lake.py builds (generated ALB, Classic ELB, S3 access, VPC flow,
CloudFront, CloudTrail, WAF and Resolver logs, 1.25 M events each); without it, this script runs
bench/lake.py's generation and ingest first. The catalog is rebuilt so the views are current.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (run_child: wall, CPU and peak RSS of a child process)


def ensure_case(case: Path) -> None:
    if (case / "catalog.duckdb").exists():
        from awsir.store.case import Case
        from awsir.store.catalog import build_catalog

        build_catalog(Case(case))  # views as this commit defines them
        return
    import lake

    lake.main(["--case", str(case)])


def detect(case: Path, *extra: str) -> tuple[dict, float, float, float]:
    code, out, err, wall, cpu, rss = run.run_child(
        [sys.executable, "-m", "awsir", "detect", "--case", str(case), "--no-sigmahq", "--json", *extra]
    )
    if code not in (0, 1):
        sys.exit(f"awsir detect failed ({code}):\n{err[-2000:]}")
    return json.loads(out), wall, cpu, rss


def one_scan_per_rule(case: Path) -> dict[str, float]:
    """Each plain built-in rule as its own query: the alternative to one pass per view."""
    from awsir.detect.engine import _one_pass, compile_rule
    from awsir.detect.rules import load_rules
    from awsir.store.case import Case
    from awsir.store.catalog import open_case, views

    con = open_case(Case(case))
    present = set(views(con))
    rules, _ = load_rules()
    compiled = [compile_rule(r) for r in rules if not r.referenced_only]
    plain = [c for c in compiled if c.query is not None and c.query.target.view in present]
    seconds = {}
    for c in plain:  # the same findings (rows grouped by subject), one rule at a time
        start = time.perf_counter()
        con.sql(_one_pass(c.query.target, [(c.rule.id, c.query)], [])).fetchall()
        seconds[c.rule.id] = time.perf_counter() - start
    con.close()
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", type=Path, default=BENCH / "results" / "lake-case")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure; best is kept")
    args = parser.parse_args(argv)
    ensure_case(args.case)
    from awsir.store.case import Case
    from awsir.store.catalog import open_case

    con = open_case(Case(args.case))
    [(events,)] = con.sql("SELECT count(*) FROM events").fetchall()
    by_source = dict(con.sql("SELECT source, count(*) FROM events GROUP BY 1 ORDER BY 1").fetchall())
    con.close()

    runs = [detect(args.case) for _ in range(args.repeat)]
    found, wall, cpu, rss = min(runs, key=lambda r: r[1])
    per_rule = min((one_scan_per_rule(args.case) for _ in range(args.repeat)), key=lambda d: sum(d.values()))
    peer_s, plain = sum(per_rule.values()), len(per_rule)
    correlations = {rule: f for rule, f in ((f["id"], f) for f in found["findings"]) if f["details"].get("correlation")}
    print(f"\nawsir detect benchmark: {events:,} events in {args.case}")
    print("events per source: " + ", ".join(f"{k} {v:,}" for k, v in by_source.items()))
    print(
        f"\nall built-in rules ({len(found['ran'])} ran, {len(found['skipped'])} skipped: no such logs): "
        f"{wall:.2f} s wall (best of {args.repeat}), {cpu:.2f} CPU s, peak RSS {rss:,.0f} MB, "
        f"{len(found['findings'])} findings; awsir's own timer {found['seconds']:.2f} s"
    )
    print("\none pass per view (seconds):")
    for view, seconds in sorted(found["passes"].items(), key=lambda kv: -kv[1]):
        print(f"  {view:60} {seconds:8.2f}")
    print(
        f"\nthe same {plain} plain rules as one query each: {peer_s:.2f} s; "
        f"one pass per view: {sum(found['passes'].values()):.2f} s "
        f"({peer_s / max(sum(found['passes'].values()), 1e-9):.1f}x faster)"
    )
    print(
        "slowest plain rules, each alone: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(per_rule.items(), key=lambda kv: -kv[1])[:5])
    )
    print(
        "correlation rules (seconds): "
        + ", ".join(f"{k} {v:.2f}" for k, v in sorted(found["correlations"].items(), key=lambda kv: -kv[1]))
    )
    print(f"correlation rules with findings: {', '.join(sorted(correlations)) or 'none'}")
    result = {
        "events": events, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "rss_mb": round(rss),
        "ran": len(found["ran"]), "findings": len(found["findings"]), "passes": found["passes"],
        "one_query_per_rule_s": round(peer_s, 2), "plain_rules": plain,
    }  # fmt: skip
    upstream = REPO.parent / "shared" / "sigma" / "aws"
    if upstream.is_dir():
        both, uwall, ucpu, urss = min(
            (detect(args.case, "--rules", str(upstream)) for _ in range(args.repeat)), key=lambda r: r[1]
        )
        print(
            f"\nbuilt-in + {len(list(upstream.rglob('*.yml')))} upstream SigmaHQ AWS rules: {uwall:.2f} s wall, "
            f"{ucpu:.2f} CPU s, peak RSS {urss:,.0f} MB, {len(both['ran'])} rules ran, "
            f"{len(both['findings'])} findings"
        )
        result["with_upstream"] = {"wall_s": round(uwall, 2), "ran": len(both["ran"])}
    out = BENCH / "results" / f"detect-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nsaved {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
