"""A rule's own cases, run for real: each case file is ingested into a case of its own (the same
parsers and lake as any evidence), the rule runs over it, and the positive case must produce a
finding while the negative one must not. A case file that does not parse whole into the rule's
logs fails the test too: a rule "passing" on nothing would prove nothing."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from awsir.detect.engine import compile_rule, run_rules
from awsir.detect.rules import Rule
from awsir.store.case import Case
from awsir.store.catalog import open_case
from awsir.store.ingest import ingest


@dataclass
class CaseResult:
    rule: str
    kind: str  # positive, negative
    files: list[str]
    ok: bool
    findings: int = 0
    events: int = 0
    rows: int = 0
    problem: str | None = None


@dataclass
class RuleTest:
    rule: Rule
    results: list[CaseResult] = field(default_factory=list)
    problem: str | None = None  # no cases, or the rule does not compile

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.results) and all(r.ok for r in self.results)


def test_rule(rule: Rule, kind_of_pipeline: str = "native") -> RuleTest:
    """Run ``rule`` on each of its cases (see the module docstring)."""
    outcome = RuleTest(rule)
    compiled = compile_rule(rule, kind_of_pipeline)
    if compiled.error:
        outcome.problem = f"does not compile: {compiled.error}"
        return outcome
    missing = [k for k in ("positive", "negative") if k not in rule.cases]
    if missing:
        outcome.problem = f"no {' or '.join(missing)} case next to {rule.path.name}"
        return outcome
    for kind, files in rule.cases.items():
        with tempfile.TemporaryDirectory(prefix="awsir-case-") as tmp:
            case = Case(Path(tmp) / "case")
            result = ingest(list(files), case, jobs=1)
            rows = sum(r.rows for r in result.reports)
            bad = [r for r in result.reports if r.quarantined or r.problem or not r.rows]
            names = [f.name for f in files]
            if bad:
                r = bad[0]
                why = r.problem or (
                    f"{r.quarantined} record(s) quarantined" if r.quarantined else "no rows"
                )
                outcome.results.append(
                    CaseResult(
                        rule.id,
                        kind,
                        names,
                        False,
                        rows=rows,
                        problem=f"{Path(r.file).name}: {why}",
                    )
                )
                continue
            con = open_case(case)
            try:
                [run] = [r for r in run_rules(con, [compiled]).runs if r.compiled is compiled]
            finally:
                con.close()
            found = len(run.findings)
            ok = run.failed is None and run.skipped is None and (found > 0) == (kind == "positive")
            problem = run.failed or run.skipped
            if problem is None and not ok:
                problem = "did not fire" if kind == "positive" else f"fired {found} finding(s)"
            outcome.results.append(
                CaseResult(rule.id, kind, names, ok, found, run.events, rows, problem)
            )
    return outcome
