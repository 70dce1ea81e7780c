"""Readiness over time: every scan's verdicts kept in a folder, the trend of the score, and what
changed since the previous scan (new gaps, fixed gaps). Each entry also keeps the fixes and the
incident-question matrix, so the dashboard (``awsir serve``) can show the latest scan whole.

One JSON file per scan, named by the inventory's time and its accounts, so running the checks
again on the same snapshot replaces that scan's entry instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awsir.readiness.questions import answer
from awsir.readiness.scan import ScanReport, write_json

DEFAULT_HISTORY = Path("awsir-history")
GAP = ("fail", "unknown")
KEEP = ("check", "title", "source", "status", "severity", "resource", "region", "account",
        "reason", "fix", "terraform")  # fmt: skip


def _key(verdict: dict[str, Any]) -> tuple[str, str, str, str]:
    return (verdict["check"], verdict.get("account") or "", verdict.get("region") or "",
            verdict.get("resource") or "")  # fmt: skip


def record(report: ScanReport, folder: Path, verdicts: list[dict[str, Any]]) -> Path:
    accounts = sorted(a.id for a in report.accounts)
    digest = hashlib.sha256(",".join(accounts).encode()).hexdigest()[:10]
    stamp = re.sub(r"[^0-9A-Za-z]", "", report.taken)
    path = folder / f"scan-{stamp}-{digest}.json"
    write_json(path, {
        "version": 1, "taken": report.taken, "accounts": accounts, "score": report.score,
        "by_source": report.scores("source"), "by_region": report.scores("region"),
        "by_account": report.scores("account"),
        "questions": [a.as_dict() for a in answer(report.findings)],
        "verdicts": [{k: v.get(k) for k in KEEP} for v in verdicts],
    })  # fmt: skip
    return path


@dataclass
class Change:
    new_gaps: list[dict[str, Any]]  # gaps now that were not gaps before
    fixed: list[dict[str, Any]]  # gaps before that pass (or no longer apply) now
    gone: list[dict[str, Any]]  # gaps before about a resource the latest scan did not see
    previous: dict[str, Any]
    latest: dict[str, Any]


def scans(folder: Path, unreadable: list[str] | None = None) -> list[dict[str, Any]]:
    """Every recorded scan, oldest first. A file that cannot be read is named in
    ``unreadable`` (with why) and the others are still used."""
    found = []
    for path in sorted(folder.glob("scan-*.json")):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            if unreadable is not None:
                unreadable.append(f"{path}: {exc}")
    return sorted(found, key=lambda s: s.get("taken", ""))


def changes(previous: dict[str, Any], latest: dict[str, Any]) -> Change:
    before = {_key(v): v for v in previous.get("verdicts", [])}
    now = {_key(v): v for v in latest.get("verdicts", [])}
    new_gaps = [v for k, v in now.items()
                if v["status"] in GAP and before.get(k, {}).get("status") not in GAP]  # fmt: skip
    fixed = [now[k] for k, v in before.items()
             if v["status"] in GAP and k in now and now[k]["status"] not in GAP]  # fmt: skip
    gone = [v for k, v in before.items() if v["status"] in GAP and k not in now]
    return Change(new_gaps, fixed, gone, previous, latest)
