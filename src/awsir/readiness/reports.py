"""Readiness reports as files: JSON (everything), CSV (one row per verdict), OCSF Compliance
Finding and AWS Security Finding Format (ASFF) JSON for security tooling, and a self-contained
HTML page with charts (score by source, Region x source heat map, trend).

Every text that came from AWS (resource names, tags, reasons) is HTML-escaped in the page: a
bucket or role name is chosen by whoever created it.
https://schema.ocsf.io/1.1.0/classes/compliance_finding,
https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from html import escape
from pathlib import Path
from typing import Any

from awsir import __version__
from awsir.findings import Finding
from awsir.readiness.engine import score
from awsir.readiness.questions import answer
from awsir.readiness.scan import ScanReport

CSV_COLUMNS = ("account", "region", "source", "check", "severity", "status", "resource",
               "reason", "title", "fix", "terraform")  # fmt: skip
OCSF_SEVERITY = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
OCSF_STATUS = {"pass": (1, "Pass"), "fail": (3, "Fail"), "unknown": (0, "Unknown"),
               "not_applicable": (99, "Not Applicable")}  # fmt: skip
ASFF_STATUS = {"pass": "PASSED", "fail": "FAILED", "unknown": "WARNING",
               "not_applicable": "NOT_AVAILABLE"}  # fmt: skip


def verdict(f: Finding) -> dict[str, Any]:
    return {"account": f.account, "region": f.region, "source": f.sources[0], "check": f.id,
            "severity": f.severity.value, "status": f.status, "resource": f.subject,
            "reason": f.reason, "title": f.title, "fix": f.fix,
            "terraform": f.terraform}  # fmt: skip


def as_json(report: ScanReport) -> dict[str, Any]:
    return {
        "tool": f"awsir {__version__}", "taken": report.taken,
        "accounts": [a.id for a in report.accounts], "score": report.score,
        "by_source": report.scores("source"), "by_region": report.scores("region"),
        "by_account": report.scores("account"),
        "questions": [a.as_dict() for a in answer(report.findings)],
        "verdicts": [verdict(f) | {"why": f.why, "details": f.details} for f in report.findings],
        "problems": report.problems,
    }  # fmt: skip


def as_csv(report: ScanReport) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for f in report.findings:
        writer.writerow(verdict(f))
    return buffer.getvalue()


def _uid(f: Finding) -> str:
    key = "|".join(str(x) for x in (f.id, f.account, f.region, f.subject))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def as_ocsf(report: ScanReport) -> list[dict[str, Any]]:
    """OCSF 1.1 Compliance Finding (class 2003), one per verdict."""
    found = []
    for f in report.findings:
        status_id, status = OCSF_STATUS[f.status or "unknown"]
        found.append({
            "class_uid": 2003, "class_name": "Compliance Finding", "category_uid": 2,
            "category_name": "Findings", "activity_id": 1, "activity_name": "Create",
            "type_uid": 200301, "time_dt": report.taken,
            "severity_id": OCSF_SEVERITY[f.severity.value], "severity": f.severity.value.title(),
            "status_id": 1, "status": "New", "message": f.reason,
            "metadata": {"version": "1.1.0", "product": {"name": "awsir", "vendor_name": "awsir",
                                                          "version": __version__}},
            "cloud": {"provider": "AWS", "account": {"uid": f.account}, "region": f.region},
            "finding_info": {"uid": _uid(f), "title": f.title, "desc": f.why,
                             "types": [f.sources[0]]},
            "compliance": {"control": f.id, "status_id": status_id, "status": status,
                           "status_detail": f.reason, "requirements": [f.id]},
            "resources": [{"uid": f.subject, "region": f.region,
                           "cloud_partition": "aws", "owner": {"account": {"uid": f.account}}}],
            "remediation": {"desc": f.fix or ""},
        })  # fmt: skip
    return found


def as_asff(report: ScanReport) -> list[dict[str, Any]]:
    """AWS Security Finding Format, importable with securityhub:BatchImportFindings."""
    found = []
    for f in report.findings:
        region = f.region if f.region and f.region != "global" else "us-east-1"
        found.append({
            "SchemaVersion": "2018-10-08", "Id": f"awsir/{f.id}/{_uid(f)}",
            "ProductArn": f"arn:aws:securityhub:{region}:{f.account}:product/{f.account}/default",
            "GeneratorId": f"awsir/{f.id}", "AwsAccountId": f.account,
            "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
            "CreatedAt": report.taken, "UpdatedAt": report.taken,
            "Severity": {"Label": "INFORMATIONAL" if f.severity.value == "info"
                         else f.severity.value.upper()},
            "Title": f.title[:256], "Description": (f.reason or f.title)[:1024],
            "Remediation": {"Recommendation": {"Text": (f.fix or f.why)[:512]}},
            "Resources": [{"Type": "Other", "Id": f.subject or f.account, "Region": region}],
            "Compliance": {"Status": ASFF_STATUS[f.status or "unknown"]},
            "RecordState": "ACTIVE", "Workflow": {"Status": "NEW"},
            "ProductFields": {"awsir/source": f.sources[0], "awsir/check": f.id},
        })  # fmt: skip
    return found


SUFFIXES = (".ocsf.json", ".asff.json", ".json", ".csv", ".html", ".htm")


def known(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def write(report: ScanReport, path: Path, trend: list[dict[str, Any]] | None = None) -> str:
    """Write the report whose format the file name says; returns the format."""
    name = path.name.lower()
    if name.endswith(".ocsf.json"):
        fmt, text = "ocsf", json.dumps(as_ocsf(report), indent=1)
    elif name.endswith(".asff.json"):
        fmt, text = "asff", json.dumps(as_asff(report), indent=1)
    elif name.endswith(".json"):
        fmt, text = "json", json.dumps(as_json(report), indent=1)
    elif name.endswith(".csv"):
        fmt, text = "csv", as_csv(report)
    elif name.endswith((".html", ".htm")):
        fmt, text = "html", as_html(report, trend or [])
    else:
        raise ValueError(f"{path}: say the format with the name: .html, .csv, .json, "
                         ".ocsf.json or .asff.json")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return fmt


# --- the HTML page ------------------------------------------------------------------------------

STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
.pass{color:#1a7f37}.fail{color:#cf222e}.unknown,.partly{color:#9a6700}.not{color:#cf222e}
.answerable{color:#1a7f37}.score{font-size:3em;font-weight:bold}code{white-space:pre-wrap}
"""


def _color(value: int | None) -> str:
    if value is None:
        return "#eee"
    red, green = (207, 34, 46), (26, 127, 55)
    mix = [round(r + (g - r) * value / 100) for r, g in zip(red, green, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def _bars(scores: dict[str, int | None]) -> str:
    rows = list(scores.items())
    height = 22 * len(rows) + 10
    parts = [f'<svg role="img" aria-label="score by source" width="640" height="{height}">']
    for k, (name, value) in enumerate(rows):
        y = 22 * k + 5
        width = 4 * (value or 0)
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(name)}</text>'
                     f'<rect x="200" y="{y}" width="{width}" height="16" fill="{_color(value)}"/>'
                     f'<text x="{205 + width}" y="{y + 13}" font-size="12">'
                     f'{"-" if value is None else value}</text>')  # fmt: skip
    return "".join(parts) + "</svg>"


def _heat(findings: list[Finding]) -> str:
    regions = sorted({f.region or "" for f in findings})
    sources = sorted({f.sources[0] for f in findings})
    head = "".join(f"<th>{escape(r)}</th>" for r in regions)
    rows = []
    for source in sources:
        cells = []
        for region in regions:
            mine = [f for f in findings if f.sources[0] == source and f.region == region]
            value = score(mine)
            text = "" if value is None else str(value)
            cells.append(f'<td style="background:{_color(value) if mine else "#fff"};'
                         f'color:#fff;text-align:center">{text}</td>')  # fmt: skip
        rows.append(f"<tr><th>{escape(source)}</th>{''.join(cells)}</tr>")
    return f"<table><tr><th>source \\ Region</th>{head}</tr>{''.join(rows)}</table>"


def _trend(trend: list[dict[str, Any]]) -> str:
    points = [(str(t.get("taken", "")), int(t["score"])) for t in trend
              if isinstance(t.get("score"), int)]  # fmt: skip
    if len(points) < 2:
        return "<p>One scan recorded so far: the trend starts with the next one.</p>"
    step = 560 / (len(points) - 1)
    line = " ".join(f"{20 + k * step:.0f},{170 - 1.5 * s:.0f}" for k, (_, s) in enumerate(points))
    last = len(points) - 1
    labels = "".join(  # the end labels anchored inward, so that the SVG does not clip them
        f'<text x="{20 + k * step:.0f}" y="195" font-size="10" text-anchor="'
        f'{"start" if k == 0 else "end" if k == last else "middle"}">{escape(t[:10])}</text>'
        for k, (t, _) in enumerate(points)
    )
    return (f'<svg role="img" aria-label="score over time" width="600" height="200">'
            f'<polyline points="{line}" fill="none" stroke="#0969da" stroke-width="2"/>'
            f"{labels}</svg>")  # fmt: skip


def as_html(report: ScanReport, trend: list[dict[str, Any]]) -> str:
    accounts = ", ".join(a.id for a in report.accounts)
    gaps = [f for f in report.findings if f.status in ("fail", "unknown")]
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    gaps.sort(key=lambda f: (order[f.severity.value], f.id, f.region or "", f.subject or ""))
    questions = "".join(
        f'<tr><td>{escape(a.question.text)}</td><td class="{escape(a.status)}">'
        f"{escape(a.status.replace('_', ' '))}</td><td>"
        f"{escape(', '.join(sorted({f.subject or '' for f in a.blind})))}</td></tr>"
        for a in answer(report.findings)
    )
    rows = "".join(
        f'<tr><td>{escape(f.severity.value)}</td><td class="{escape(f.status or "")}">'
        f"{escape(f.status or '')}</td><td>{escape(f.id)}</td><td>{escape(f.account or '')}</td>"
        f"<td>{escape(f.region or '')}</td><td>{escape(f.subject or '')}</td>"
        f"<td>{escape(f.reason or '')}</td><td><code>{escape(f.fix or '')}</code>"
        + (
            f"<details><summary>Terraform</summary><code>{escape(f.terraform)}</code></details>"
            if f.terraform
            else ""
        )
        + "</td></tr>"
        for f in gaps
    )
    value = report.score
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>awsir readiness: {escape(accounts)}</title><style>{STYLE}</style></head><body>
<h1>Incident readiness of {escape(accounts)}</h1>
<p>Inventory taken {escape(report.taken)} by awsir {escape(__version__)}.
{len(report.findings)} verdicts, {len(gaps)} gaps.</p>
<p class="score" style="color:{_color(value)}">{"-" if value is None else value}/100</p>
<h2>Score by log source</h2>{_bars(report.scores("source"))}
<h2>Region x source</h2>{_heat(report.findings)}
<h2>Trend</h2>{_trend(trend)}
<h2>Incident questions</h2>
<table><tr><th>question</th><th>answer</th><th>blind spots</th></tr>{questions}</table>
<h2>Gaps and how to fix them</h2>
<table><tr><th>severity</th><th>status</th><th>check</th><th>account</th><th>Region</th>
<th>resource</th><th>reason</th><th>fix</th></tr>{rows}</table>
</body></html>
"""
