"""Run the built-in hunts (``awsir/hunts/*.sql``, and plugins' ``awsir.hunts``) over a case.

A hunt is one SQL file; its metadata is the comment block at its top (``-- key: value``: title,
severity, attack, needs, why). It selects the matching events with at least ``time``,
``source``, ``subject``, ``message`` and ``raw_ref``; each subject becomes one
:class:`~awsir.findings.Finding`. A hunt whose views are absent from the case (no flow logs were
ingested) is reported as skipped with that reason, not as silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from awsir.findings import Finding, Severity
from awsir.registry import Registry, default_registry
from awsir.store.catalog import views
from awsir.store.query import iso

EVIDENCE_CAP = 200
_META = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*)$")
REQUIRED = ("title", "severity", "attack", "needs", "why")


class HuntError(ValueError):
    """A hunt file that does not say what it needs to."""


@dataclass(frozen=True)
class Hunt:
    id: str
    title: str
    severity: Severity
    attack: list[str]
    needs: list[str]
    why: str
    sql: str
    path: Path


def load_hunt(id: str, path: Path) -> Hunt:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    for line in text.splitlines():
        found = _META.match(line)
        if not found:
            break
        meta[found.group(1)] = found.group(2).strip()
    missing = [k for k in REQUIRED if not meta.get(k)]
    if missing:
        raise HuntError(f"{path}: the header lacks {', '.join(missing)}")
    try:
        severity = Severity(meta["severity"])
    except ValueError:
        raise HuntError(
            f"{path}: severity {meta['severity']!r} is not one of {list(Severity)}"
        ) from None
    split = [s.strip() for s in re.split(r"[,\s]+", meta["attack"]) if s.strip()]
    needs = [s.strip() for s in re.split(r"[,\s]+", meta["needs"]) if s.strip()]
    return Hunt(id, meta["title"], severity, split, needs, meta["why"], text, path)


def load_hunts(registry: Registry | None = None) -> list[Hunt]:
    units = (registry or default_registry()).of("hunts")
    return [load_hunt(unit.id, unit.path) for unit in sorted(units.values(), key=lambda u: u.id)]


@dataclass
class HuntRun:
    hunt: Hunt
    findings: list[Finding]
    skipped: str | None = None  # why it did not run: its logs are not in the case
    failed: str | None = None  # its SQL failed on this case (a plugin's, a changed view...)


def run_hunts(con: duckdb.DuckDBPyConnection, hunts: list[Hunt]) -> list[HuntRun]:
    present = set(views(con))
    runs = []
    for hunt in hunts:
        absent = [v for v in hunt.needs if v not in present]
        if absent:
            runs.append(HuntRun(hunt, [], f"no {', '.join(absent)} events in this case"))
            continue
        try:
            runs.append(HuntRun(hunt, _findings(con, hunt)))
        except duckdb.Error as exc:  # one broken hunt must not hide the others' findings
            runs.append(HuntRun(hunt, [], failed=str(exc).splitlines()[0]))
    return runs


def _findings(con: duckdb.DuckDBPyConnection, hunt: Hunt) -> list[Finding]:
    rows = (
        con.sql(
            f"SELECT subject, count(*) AS n, {iso('min(time)')} AS first, "
            f"{iso('max(time)')} AS last, list(DISTINCT source) AS sources, "
            "list(message ORDER BY time)[1:3] AS examples, "
            f"list(raw_ref ORDER BY time)[1:{EVIDENCE_CAP}] AS evidence "
            f"FROM ({hunt.sql}) GROUP BY subject ORDER BY n DESC, subject"
        )
        .to_arrow_table()
        .to_pylist()
    )
    return [
        Finding(
            kind="hunt", id=hunt.id, title=hunt.title, severity=hunt.severity, why=hunt.why,
            attack=hunt.attack, subject=r["subject"], count=r["n"], first=r["first"],
            last=r["last"], sources=sorted(r["sources"]), examples=r["examples"],
            evidence=r["evidence"],
        )
        for r in rows
    ]  # fmt: skip
