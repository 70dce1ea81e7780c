"""Run the readiness checks over an inventory and score the result.

A check is one module, ``checks/<service>/<id>.py`` (built in, or from a plugin's
``awsir.checks`` package), found through the registry. Its metadata sits at its top, declared
once: the module docstring says why it matters for an investigation (first line: the title),
``SOURCE`` names the catalog source it is about (a result may name another: the evidence
access check speaks of each location's source), ``SEVERITY``, ``NEEDS`` (the calls it reads),
``FIX`` (a command template: ``{resource}``, ``{region}``, ``{account}``, ``{label}`` and any
key of a result's details), optionally ``TERRAFORM`` (the same fix as a Terraform resource), and
``run(account, options)`` yields a :class:`Result` per resource.
"""

from __future__ import annotations

import importlib.util
import string
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from awsir.aws.calls import BY_NAME
from awsir.findings import Finding, Severity
from awsir.readiness.model import Account, Options, Result, Status
from awsir.registry import Registry, default_registry

WEIGHTS = {Severity.info: 0, Severity.low: 1, Severity.medium: 3, Severity.high: 5,
           Severity.critical: 8}  # fmt: skip
"""How much a check counts in the score (see :func:`score`)."""


class CheckError(ValueError):
    """A check module that does not declare what it must."""


@dataclass(frozen=True)
class Check:
    id: str
    service: str
    title: str
    why: str
    source: str
    severity: Severity
    needs: tuple[str, ...]
    fix: str
    module: ModuleType
    terraform: str | None = None  # the same fix as Terraform, where that is natural

    def run(self, account: Account, options: Options) -> Iterable[Result]:
        return self.module.run(account, options)  # type: ignore[no-any-return]


def load_check(id: str, path: Path) -> Check:
    spec = importlib.util.spec_from_file_location(f"awsir_check_{id}", path)
    if spec is None or spec.loader is None:
        raise CheckError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    doc = (module.__doc__ or "").strip()
    missing = [n for n in ("SOURCE", "SEVERITY", "NEEDS", "FIX", "run") if not hasattr(module, n)]
    if not doc or missing:
        raise CheckError(f"{path}: lacks {', '.join(missing or ['a docstring (title and why)'])}")
    unknown_calls = [n for n in module.NEEDS if n not in BY_NAME]
    if unknown_calls:
        raise CheckError(f"{path}: NEEDS calls the inventory does not make: {unknown_calls}")
    title, _, why = doc.partition("\n")
    terraform = getattr(module, "TERRAFORM", None)
    return Check(
        id, path.parent.name, title.strip().rstrip("."), " ".join(why.split()), module.SOURCE,
        Severity(module.SEVERITY), tuple(module.NEEDS), module.FIX.strip(), module,
        terraform.strip() if terraform else None,
    )  # fmt: skip


def load_checks(registry: Registry | None = None) -> list[Check]:
    units = (registry or default_registry()).of("checks")
    return [load_check(u.id, u.path) for u in sorted(units.values(), key=lambda u: u.id)]


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fix_for(template: str, result: Result, account: str) -> str:
    """``template`` (a check's FIX or TERRAFORM) filled for one result."""
    values = _Blank(resource=result.resource, region=result.region, account=account)
    values.update({k: v for k, v in result.details.items() if isinstance(v, str | int)})
    # a name fit for a Terraform resource label
    label = "".join(c if c.isalnum() else "_" for c in result.resource)[:60]
    values.setdefault("label", label if label[:1].isalpha() else f"r_{label}")
    return string.Formatter().vformat(template, (), values)


def run_checks(
    accounts: list[Account], checks: list[Check], options: Options | None = None
) -> list[Finding]:
    options = options or Options()
    findings = []
    for account in accounts:
        for check in checks:
            for result in check.run(account, options):
                gap = result.status in (Status.failed, Status.unknown)
                findings.append(
                    Finding(
                        kind="check", id=check.id, title=check.title, severity=check.severity,
                        why=check.why, subject=result.resource,
                        sources=[result.source or check.source],
                        status=result.status.value, account=account.id, region=result.region,
                        reason=result.reason,
                        fix=fix_for(check.fix, result, account.id) if gap else None,
                        terraform=fix_for(check.terraform, result, account.id)
                        if gap and check.terraform else None,
                        details=result.details,
                    )
                )  # fmt: skip
    return findings


def score(findings: list[Finding]) -> int | None:
    """100 x (weight of passed checks) / (weight of passed, failed and unknown ones).

    Weights by severity are :data:`WEIGHTS`. ``unknown`` counts against: a log source nobody can
    verify is not one a responder can count on. ``not_applicable`` does not count. None when no
    check applied."""
    return score_of((f.status, f.severity) for f in findings)


def score_of(verdicts: Iterable[tuple[str | None, str]]) -> int | None:
    """:func:`score` of ``(status, severity)`` pairs (verdicts read back from a report)."""
    counted = [(st, WEIGHTS[Severity(sev)]) for st, sev in verdicts
               if st in ("pass", "fail", "unknown") and sev in WEIGHTS]  # fmt: skip
    total = sum(w for _, w in counted)
    if not total:
        return None
    return round(100 * sum(w for st, w in counted if st == "pass") / total)


def scores_by(findings: list[Finding], key: str) -> dict[str, int | None]:
    """The score of each group of findings (``source``, ``region`` or ``account``)."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        value = finding.sources[0] if key == "source" else getattr(finding, key)
        groups.setdefault(str(value), []).append(finding)
    return {name: score(group) for name, group in sorted(groups.items())}
