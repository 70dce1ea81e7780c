"""One Finding model for everything that reports a problem: hunts, readiness checks, and Sigma
rules as they land, so reports, the dashboard and exports treat them alike."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Severity(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


@dataclass
class Finding:
    """What fired, about whom or what, when, and the evidence (``raw_ref`` of each event, which
    ``awsir timeline`` and the case's views can open)."""

    kind: str  # hunt, check, rule
    id: str  # the unit's id (file name)
    title: str
    severity: Severity
    why: str
    attack: list[str] = field(default_factory=list)  # MITRE ATT&CK technique ids
    subject: str | None = None  # the actor, address or resource it is about
    count: int = 0
    first: str | None = None  # ISO 8601 UTC
    last: str | None = None
    sources: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # a few event messages
    evidence: list[str] = field(default_factory=list)  # raw_ref of the events (capped)
    # readiness checks: the verdict on one resource (``subject``) of one account and Region
    status: str | None = None  # pass, fail, unknown, not_applicable
    account: str | None = None
    region: str | None = None
    reason: str | None = None
    fix: str | None = None  # a ready-to-run command
    terraform: str | None = None  # the same fix as Terraform, where natural
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def findings_file(case_root: Path, kind: str) -> Path:
    """Where a case keeps the findings of its last ``awsir hunt`` (kind ``hunt``) or
    ``awsir detect`` (``rule``) run, for ``awsir timeline --finding`` and the dashboard."""
    return case_root / "findings" / f"{kind}.json"


def save_findings(case_root: Path, kind: str, findings: list[Finding]) -> Path:
    path = findings_file(case_root, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps([f.as_dict() for f in findings], indent=1, default=str) + "\n")
    tmp.replace(path)
    return path


def load_findings(case_root: Path) -> list[dict[str, Any]]:
    """Every finding the case keeps (hunts, then rules); none if nothing was run yet."""
    found: list[dict[str, Any]] = []
    for kind in ("hunt", "rule"):
        path = findings_file(case_root, kind)
        if path.exists():
            found += json.loads(path.read_text(encoding="utf-8"))
    return found


def finding_refs(case_root: Path, finding: str) -> list[str] | None:
    """The ``raw_ref`` of the events of the kept findings ``ID`` (every subject) or
    ``ID@SUBJECT``; None when the case keeps no such finding."""
    rule_id, _, subject = finding.partition("@")
    kept = [f for f in load_findings(case_root) if f["id"] == rule_id]
    if subject:
        kept = [f for f in kept if f["subject"] == subject]
    return sorted({ref for f in kept for ref in f["evidence"]}) if kept else None
