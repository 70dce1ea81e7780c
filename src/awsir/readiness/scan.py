"""``awsir scan``: inventory one account (or every account of an organization), run the checks,
score, and keep the snapshot so the same checks can run again offline.

A snapshot is ``{"version": 1, "accounts": [<inventory>, ...]}``, each inventory as
:func:`awsir.aws.inventory.collect` returns it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from awsir.findings import Finding
from awsir.readiness.access import ACQUIRE, Need, needs
from awsir.readiness.engine import Check, load_checks, run_checks, score, scores_by
from awsir.readiness.locations import locations
from awsir.readiness.model import Account, Options

SNAPSHOT_VERSION = 1
ACCOUNTS_AT_ONCE = 4


class SnapshotError(ValueError):
    """A snapshot file awsir cannot read back."""


@dataclass
class ScanReport:
    taken: str
    accounts: list[Account]
    findings: list[Finding]
    problems: list[str] = field(default_factory=list)  # accounts that could not be scanned

    @property
    def score(self) -> int | None:
        return score(self.findings)

    def scores(self, key: str) -> dict[str, int | None]:
        return scores_by(self.findings, key)

    def snapshot(self) -> dict[str, Any]:
        return {"version": SNAPSHOT_VERSION, "taken": self.taken,
                "accounts": [a.raw for a in self.accounts]}  # fmt: skip


def evaluate(
    inventories: list[dict[str, Any]],
    options: Options | None = None,
    checks: list[Check] | None = None,
    problems: list[str] | None = None,
) -> ScanReport:
    accounts = [Account(raw) for raw in inventories]
    findings = run_checks(accounts, checks if checks is not None else load_checks(), options)
    taken = min((a.raw.get("taken", "") for a in accounts), default="") or _now()
    return ScanReport(taken, accounts, findings, list(problems or []))


def read_snapshot(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{path}: cannot read the snapshot: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        raise SnapshotError(f"{path}: not an awsir snapshot (version {SNAPSHOT_VERSION})")
    return list(data.get("accounts") or [])


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def collect_accounts(
    targets: list[tuple[str, Callable[[], Any]]],
    regions: list[str] | None,
    home: str,
    on_call: Callable[[str, str], None] | None = None,
    responder: str | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Inventories of several accounts, in parallel. ``targets`` are (label, session maker):
    an account whose role cannot be assumed is a problem named in the report, not a crash.
    With ``responder`` (a role or user ARN), each inventory also holds the simulation of what
    it may do with the evidence found (``access``)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from awsir.aws.inventory import SignInError, collect
    from awsir.aws.simulate import simulate

    def one(target: tuple[str, Callable[[], Any]]) -> dict[str, Any] | str:
        label, make = target
        try:
            session = make()
            inventory = collect(session, regions, home=home, on_call=on_call)
        except (ClientError, BotoCoreError, SignInError) as exc:
            return f"{label}: cannot sign in: {exc}"
        account = Account(inventory)
        if responder:
            wanted = [(n.action, n.resource, n.policy_of) for n in evidence_needs(account)]
            inventory["access"] = simulate(session, responder, wanted, account.id, home)
        roles = function_log_needs(account)
        inventory["function_roles"] = {
            role: simulate(session, role, [(n.action, n.resource, None) for n in wanted],
                           account.id, home)
            for role, wanted in roles.items()
        }  # fmt: skip
        return inventory

    with ThreadPoolExecutor(max_workers=ACCOUNTS_AT_ONCE) as pool:
        results = list(pool.map(one, targets))
    return [r for r in results if isinstance(r, dict)], [r for r in results if isinstance(r, str)]


def evidence_needs(account: Account) -> list[Need]:
    """Every permission a responder needs in this account: reading each location, acquiring."""
    found = [need for location in locations(account) for need in needs(location)]
    return [*found, *ACQUIRE]


def function_log_needs(account: Account) -> dict[str, list[Need]]:
    """What each Lambda function's role must be allowed so the function's output is logged:
    logs:CreateLogStream and logs:PutLogEvents on its log group, per role."""
    found: dict[str, list[Need]] = {}
    for function in lambda_functions(account):
        found.setdefault(function["role"], []).extend(function["needs"])
    return found


def lambda_functions(account: Account) -> list[dict[str, Any]]:
    """Each function with its Region, role, log group and the permissions its role needs.
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"""
    found = []
    for region in account.regions:
        for fn in account.answer(region, "lambda.ListFunctions").get("Functions") or []:
            if not fn.get("Role"):
                continue
            group = (fn.get("LoggingConfig") or {}).get(
                "LogGroup"
            ) or f"/aws/lambda/{fn['FunctionName']}"
            arn = f"arn:aws:logs:{region}:{account.id}:log-group:{group}:*"
            needs = [Need("logs:CreateLogStream", arn), Need("logs:PutLogEvents", arn)]
            found.append({"name": fn["FunctionName"], "region": region, "role": fn["Role"],
                          "log_group": group, "needs": needs})  # fmt: skip
    return found


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
