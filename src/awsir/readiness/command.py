"""The ``awsir scan`` command: options, progress, and the terminal and JSON outputs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from awsir.console import err, out
from awsir.findings import Finding
from awsir.readiness import reports
from awsir.readiness.history import DEFAULT_HISTORY, changes, record, scans
from awsir.readiness.locations import locations
from awsir.readiness.model import Options
from awsir.readiness.questions import answer
from awsir.readiness.scan import (
    ScanReport,
    SnapshotError,
    collect_accounts,
    evaluate,
    read_snapshot,
    write_json,
)

STATUS_STYLE = {"pass": "green", "fail": "red", "unknown": "yellow", "not_applicable": "dim"}
ANSWER_STYLE = {"answerable": "green", "partly": "yellow", "not": "red", "unknown": "yellow"}


def scan_command(
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
    region: Annotated[
        str, typer.Option("--region", help="Home Region: where global calls go.")
    ] = "us-east-1",
    regions: Annotated[
        list[str] | None,
        typer.Option(
            "--regions",
            help="Only these Regions (repeat, or comma-separated); "
            "default: every Region enabled in the account.",
        ),
    ] = None,
    role_arn: Annotated[
        str | None, typer.Option("--role-arn", help="Assume this role to scan (another account).")
    ] = None,
    external_id: Annotated[
        str | None, typer.Option("--external-id", help="External id for --role-arn / --org-role.")
    ] = None,
    org_role: Annotated[
        str | None,
        typer.Option(
            "--org-role",
            help="Scan every account of the AWS Organization, assuming "
            "this role name in each (from the management or a delegated account).",
        ),
    ] = None,
    responder: Annotated[
        str | None,
        typer.Option(
            "--responder-role",
            help="ARN of the role responders use: check (IAM "
            "policy simulation) that it can read and decrypt every log location found "
            "and acquire evidence.",
        ),
    ] = None,
    locations_out: Annotated[
        Path | None,
        typer.Option(
            "--locations-out",
            help="Write where each source's logs are (JSON): "
            "bucket/prefix/KMS key, log group, API. The input of collection.",
        ),
    ] = None,
    from_snapshot: Annotated[
        Path | None,
        typer.Option("--from-snapshot", help="Run the checks on a saved snapshot: no AWS call."),
    ] = None,
    snapshot_out: Annotated[
        Path | None, typer.Option("--snapshot-out", help="Save the inventory (JSON) here.")
    ] = None,
    retention_days: Annotated[
        int, typer.Option("--retention-days", help="Logs must be kept this long.", min=1)
    ] = 365,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per finding on stdout.")
    ] = False,
    outputs: Annotated[
        list[Path] | None,
        typer.Option(
            "--output",
            "-o",
            help="Write a report; the name says the format: .html "
            "(charts), .csv, .json, .ocsf.json (OCSF Compliance Finding), .asff.json "
            "(Security Hub). Repeatable.",
        ),
    ] = None,
    history: Annotated[
        Path, typer.Option("--history", help="Folder where every scan's verdicts are kept.")
    ] = DEFAULT_HISTORY,
    keep: Annotated[
        bool, typer.Option("--keep/--no-keep", help="Record this scan in --history.")
    ] = True,
    fail_under: Annotated[
        int | None,
        typer.Option(
            "--fail-under", help="Exit 1 when the score is below this (CI).", min=0, max=100
        ),
    ] = None,
) -> None:
    """Incident readiness: which logs exist in the account, in every Region, whether they are
    complete, delivered, kept and protected, and how to fix each gap. Read-only."""
    options = Options(retention_days=retention_days)
    unknown_kind = [str(o) for o in outputs or [] if not reports.known(o)]
    if unknown_kind:
        err.print(Text(f"error: --output names its format by suffix (.html, .csv, .json, "
                       f".ocsf.json, .asff.json): {', '.join(unknown_kind)}"))  # fmt: skip
        raise typer.Exit(2)
    if from_snapshot is not None:
        try:
            inventories, problems = read_snapshot(from_snapshot), list[str]()
        except SnapshotError as exc:
            err.print(Text(f"error: {exc}"))
            raise typer.Exit(2) from None
    else:
        inventories, problems = _collect(profile, region, _split(regions), role_arn, external_id,
                                         org_role, responder)  # fmt: skip
    if not inventories:  # nothing could be scanned: say why, and no empty report
        for problem in problems or ["no account in the snapshot"]:
            err.print(Text(f"error: {problem}"))
        raise typer.Exit(2)
    report = evaluate(inventories, options, problems=problems)
    if locations_out is not None:
        found = [loc.as_dict() for account in report.accounts for loc in locations(account)]
        write_json(locations_out, {"version": 1, "taken": report.taken, "locations": found})
        err.print(Text(f"log locations: {locations_out} ({len(found)})"))
    if snapshot_out is not None:
        write_json(snapshot_out, report.snapshot())
        err.print(Text(f"snapshot: {snapshot_out}"))
    for problem in report.problems:
        err.print(Text(f"warning: {problem}"))
    verdicts = [finding_json(f) for f in report.findings]
    if keep:
        recorded = record(report, history, verdicts)
        err.print(Text(f"recorded in {recorded} (awsir history --history {history})"))
    for output in outputs or []:
        fmt = reports.write(report, output, scans(history) if keep else [])
        err.print(Text(f"{fmt} report: {output}"))
    if as_json:
        for verdict in verdicts:
            sys.stdout.write(json.dumps(verdict, ensure_ascii=False) + "\n")
    else:
        print_report(report)
    if fail_under is not None and (report.score or 0) < fail_under:
        err.print(Text(f"score {report.score} is below --fail-under {fail_under}"))
        raise typer.Exit(1)


def _split(values: list[str] | None) -> list[str] | None:
    found = [v.strip() for value in values or [] for v in value.split(",") if v.strip()]
    return found or None


def _collect(
    profile: str | None,
    home: str,
    regions: list[str] | None,
    role_arn: str | None,
    external_id: str | None,
    org_role: str | None,
    responder: str | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    from awsir.aws.session import assume, organization_accounts, session

    try:
        base = session(profile, home)
        targets: list[tuple[str, Callable[[], Any]]]
        if org_role:
            me = base.client("sts").get_caller_identity()["Account"]
            targets = []
            for member in organization_accounts(base):
                role = f"arn:aws:iam::{member['Id']}:role/{org_role}"
                maker = partial(assume, base, role, external_id, home)
                # the account signed in to is scanned with its own credentials
                targets.append((member["Id"], (lambda: base) if member["Id"] == me else maker))
        elif role_arn:
            targets = [(role_arn, partial(assume, base, role_arn, external_id, home))]
        else:
            targets = [("default credentials", lambda: base)]
    except NoCredentialsError:
        err.print(Text("error: no AWS credentials found (set a profile with --profile, or the "
                       "standard AWS_* variables)"))  # fmt: skip
        raise typer.Exit(2) from None
    except (ClientError, BotoCoreError) as exc:
        err.print(Text(f"error: {exc}"))
        raise typer.Exit(2) from None
    progress = Progress(
        SpinnerColumn(), TextColumn("scanning: {task.completed:,} calls, {task.fields[where]}"),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    )  # fmt: skip
    with progress:
        task = progress.add_task("scan", total=None, where="")

        def seen(where: str, name: str) -> None:
            progress.update(task, advance=1, where=f"{where} {name}")

        return collect_accounts(targets, regions, home, on_call=seen, responder=responder)


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.id, "title": finding.title, "source": finding.sources[0],
        "status": finding.status, "severity": finding.severity.value, "resource": finding.subject,
        "region": finding.region, "account": finding.account, "reason": finding.reason,
        "why": finding.why, "fix": finding.fix, "terraform": finding.terraform,
        "details": finding.details,
    }  # fmt: skip


def print_report(report: ScanReport) -> None:
    accounts = ", ".join(a.id for a in report.accounts) or "none"
    out.print(Text(f"Incident readiness of {accounts} (inventory taken {report.taken})"))
    table = Table(title="By log source", title_justify="left")
    for name in ("source", "score", "pass", "fail", "unknown"):
        table.add_column(name, justify="left" if name == "source" else "right")
    for source, value in report.scores("source").items():
        mine = [f for f in report.findings if f.sources[0] == source]
        counts = [sum(f.status == s for f in mine) for s in ("pass", "fail", "unknown")]
        table.add_row(source, "-" if value is None else str(value), *map(str, counts))
    out.print(table)
    if len(report.accounts) > 1:  # the organization roll-up
        table = Table(title="By account", title_justify="left")
        for name in ("account", "score", "gaps"):
            table.add_column(name, justify="left" if name == "account" else "right")
        for account, value in report.scores("account").items():
            open_gaps = sum(f.account == account and f.status in ("fail", "unknown")
                            for f in report.findings)  # fmt: skip
            table.add_row(account, "-" if value is None else str(value), str(open_gaps))
        out.print(table)
    table = Table(title="Incident questions", title_justify="left")
    for name in ("question", "answer", "blind spots"):
        table.add_column(name, overflow="fold")
    for found in answer(report.findings):
        if found.status == "nothing_to_ask":
            continue
        shown = ", ".join(sorted({f"{f.subject} ({f.region})" for f in found.blind})[:6])
        more = len({(f.subject, f.region) for f in found.blind}) - 6
        style = ANSWER_STYLE.get(found.status, "")
        table.add_row(found.question.text, Text(found.status, style=style),
                      Text(shown + (f" and {more} more" if more > 0 else "")))  # fmt: skip
    out.print(table)
    gaps = [f for f in report.findings if f.status in ("fail", "unknown")]
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    gaps.sort(
        key=lambda f: (order[f.severity.value], f.status, f.id, f.region or "", f.subject or "")
    )
    if gaps:
        table = Table(title="Gaps (fix: awsir scan --json | jq)", title_justify="left")
        for name in ("severity", "status", "check", "region", "resource", "reason"):
            table.add_column(name, overflow="fold")
        for f in gaps:
            status = Text(f.status or "", style=STATUS_STYLE.get(f.status or "", ""))
            where, what = Text(f.subject or ""), Text(f.reason or "")
            table.add_row(f.severity.value, status, f.id, f.region or "", where, what)
        out.print(table)
    regions = ", ".join(
        f"{r} {'-' if v is None else v}" for r, v in report.scores("region").items()
    )
    out.print(Text(f"By Region: {regions}"))
    score = report.score
    out.print(Text(f"Readiness score: {'-' if score is None else score}/100 "
                   f"({len(report.findings)} verdicts, {len(gaps)} gaps)"))  # fmt: skip


def history_command(
    history: Annotated[
        Path, typer.Option("--history", help="Folder of recorded scans (awsir scan --history).")
    ] = DEFAULT_HISTORY,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Readiness over time: the score of every recorded scan, and what changed since the
    previous one (new gaps, fixed gaps)."""
    unreadable: list[str] = []
    found = scans(history, unreadable)
    for problem in unreadable:
        err.print(Text(f"warning: skipped an unreadable scan record: {problem}"))
    if not found:
        err.print(Text(f"error: no scan recorded in {history} (run awsir scan first)"))
        raise typer.Exit(2)
    change = changes(found[-2], found[-1]) if len(found) > 1 else None
    if as_json:
        trend = [{k: s.get(k) for k in ("taken", "accounts", "score", "by_source")} for s in found]
        since = None if change is None else {
            "new_gaps": change.new_gaps, "fixed": change.fixed, "gone": change.gone
        }  # fmt: skip
        sys.stdout.write(json.dumps({"scans": trend, "since_previous": since}, indent=1) + "\n")
        return
    table = Table(title="Readiness score by scan", title_justify="left")
    for name in ("taken", "accounts", "score", "gaps"):
        table.add_column(name)
    for scan in found:
        gaps = sum(v["status"] in ("fail", "unknown") for v in scan.get("verdicts", []))
        score = scan.get("score")
        table.add_row(scan.get("taken", "?"), ", ".join(scan.get("accounts", [])),
                      "-" if score is None else str(score), str(gaps))  # fmt: skip
    out.print(table)
    if change is None:
        out.print(Text("one scan recorded: nothing to compare yet"))
        return
    sections = {
        "New gaps since the previous scan": change.new_gaps,
        "Fixed since the previous scan": change.fixed,
        "Gaps about resources the latest scan did not see": change.gone,
    }
    columns = ("status", "check", "account", "region", "resource", "reason")
    for title, rows in sections.items():
        if not rows:
            out.print(Text(f"{title}: none"))
            continue
        table = Table(title=title, title_justify="left")
        for name in columns:
            table.add_column(name, overflow="fold")
        for v in rows:
            table.add_row(*(Text(str(v.get(k) or "")) for k in columns))
        out.print(table)
