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
from awsir.readiness.model import Options
from awsir.readiness.scan import (
    ScanReport,
    SnapshotError,
    collect_accounts,
    evaluate,
    read_snapshot,
    write_json,
)

STATUS_STYLE = {"pass": "green", "fail": "red", "unknown": "yellow", "not_applicable": "dim"}


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
    if from_snapshot is not None:
        try:
            inventories, problems = read_snapshot(from_snapshot), list[str]()
        except SnapshotError as exc:
            err.print(Text(f"error: {exc}"))
            raise typer.Exit(2) from None
    else:
        inventories, problems = _collect(profile, region, _split(regions), role_arn, external_id,
                                         org_role)  # fmt: skip
    if not inventories:  # nothing could be scanned: say why, and no empty report
        for problem in problems or ["no account in the snapshot"]:
            err.print(Text(f"error: {problem}"))
        raise typer.Exit(2)
    report = evaluate(inventories, options, problems=problems)
    if snapshot_out is not None:
        write_json(snapshot_out, report.snapshot())
        err.print(Text(f"snapshot: {snapshot_out}"))
    for problem in report.problems:
        err.print(Text(f"warning: {problem}"))
    if as_json:
        for finding in report.findings:
            sys.stdout.write(json.dumps(finding_json(finding), ensure_ascii=False) + "\n")
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
) -> tuple[list[dict[str, Any]], list[str]]:
    from awsir.aws.session import assume, organization_accounts, session

    try:
        base = session(profile, home)
        targets: list[tuple[str, Callable[[], Any]]]
        if org_role:
            targets = [
                (a["Id"], partial(assume, base, f"arn:aws:iam::{a['Id']}:role/{org_role}",
                                  external_id, home))
                for a in organization_accounts(base)
            ]  # fmt: skip
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

        return collect_accounts(targets, regions, home, on_call=seen)


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.id, "title": finding.title, "source": finding.sources[0],
        "status": finding.status, "severity": finding.severity.value, "resource": finding.subject,
        "region": finding.region, "account": finding.account, "reason": finding.reason,
        "why": finding.why, "fix": finding.fix, "details": finding.details,
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
    score = report.score
    out.print(Text(f"Readiness score: {'-' if score is None else score}/100 "
                   f"({len(report.findings)} verdicts, {len(gaps)} gaps)"))  # fmt: skip
