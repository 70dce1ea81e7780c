"""Run Sigma rules over a case: compiled once, then one pass per view for all of its rules.

Each rule's condition becomes a DuckDB boolean over the view's row (``backend``); the rules that
read the same view are evaluated together, in **one scan** that keeps the rows any of them match
and labels each row with the rules it matched. A rule whose SQL fails on this case is re-run
alone so that it is the only one reported as failed. Matches become one
:class:`~awsir.findings.Finding` per rule and subject (actor, else source address, else
resource), with the ``raw_ref`` of each event: ``awsir timeline --finding ID`` opens them.

Correlation rules (https://sigmahq.io/docs/meta/correlations.html) are window queries over the
events of the rules they name, per ``group-by`` value:

- ``event_count``: events in the trailing ``timespan`` window ending at each event;
- ``value_count``: distinct values of ``condition.field`` in that window;
- ``temporal``: distinct named rules seen in that window (all of them unless the condition
  says how many).

Where the condition holds, the finding's evidence is every event of the windows that met it.
``temporal_ordered`` and the extended correlation types are reported as not supported.
"""

from __future__ import annotations

import copy
import time as clock
from dataclasses import dataclass, field
from typing import Any

import duckdb
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from awsir.detect.backend import DuckDBBackend, UnknownField
from awsir.detect.rules import Rule
from awsir.detect.targets import Target, pipeline, resolve
from awsir.findings import Finding
from awsir.parse.sql import ident, literal
from awsir.store.catalog import views
from awsir.store.query import iso

EVIDENCE_CAP = 200
_OPS = {
    SigmaCorrelationConditionOperator.LT: "<",
    SigmaCorrelationConditionOperator.LTE: "<=",
    SigmaCorrelationConditionOperator.GT: ">",
    SigmaCorrelationConditionOperator.GTE: ">=",
    SigmaCorrelationConditionOperator.EQ: "=",
    SigmaCorrelationConditionOperator.NEQ: "<>",
}


class CompileError(ValueError):
    """A rule awsir cannot turn into SQL; the message says why."""


@dataclass
class Query:
    """One plain Sigma rule compiled against one view."""

    target: Target
    condition: str  # boolean SQL over the view's row ``e``
    unknown_fields: list[str] = field(default_factory=list)

    @property
    def sql(self) -> str:
        where = (
            f"{self.target.where} AND ({self.condition})" if self.target.where else (self.condition)
        )
        return f"SELECT * FROM {ident(self.target.view)} AS e WHERE {where}"


@dataclass
class Compiled:
    rule: Rule
    query: Query | None = None  # plain rules
    parts: dict[str, Query] = field(default_factory=dict)  # correlations: per named rule
    error: str | None = None

    @property
    def sql(self) -> str | None:
        if self.query is not None:
            return self.query.sql
        if self.parts and self.error is None:
            return correlation_sql(self.rule.sigma, self.parts, None)  # type: ignore[arg-type]
        return None


def _ref_name(rule: SigmaRule | SigmaCorrelationRule) -> str:
    return str(rule.name or rule.id or rule.title)


def compile_sigma(rule: SigmaRule, kind: str = "native") -> Query:
    """``rule``'s condition as DuckDB SQL over the view its logsource names under ``kind``."""
    target = resolve(rule.logsource, kind)
    if target is None:
        ls = rule.logsource
        raise CompileError(
            f"logsource product={ls.product} service={ls.service} category={ls.category}: "
            "awsir has no such logs"
            + (" in the OCSF views" if kind == "ocsf" else "")
            + " (product: aws with service: a table, or category: webserver, dns, firewall)"
        )
    backend = DuckDBBackend(pipeline(kind)).for_target(target)
    try:
        backend.convert_rule(copy.deepcopy(rule))  # the pipeline rewrites the rule it is given
    except UnknownField as exc:  # str() carries pySigma's "(while converting...)" too
        raise CompileError(f"field {exc.field!r} has no equivalent in {target.view}") from None
    except SigmaError as exc:
        raise CompileError(" ".join(str(exc).split())) from None
    if backend.last_condition is None:
        raise CompileError("the rule produced no query")
    return Query(target, backend.last_condition, sorted(backend.unknown_fields))


def compile_rule(rule: Rule, kind: str = "native") -> Compiled:
    sigma = rule.sigma
    try:
        if isinstance(sigma, SigmaCorrelationRule):
            if sigma.type not in (
                SigmaCorrelationType.EVENT_COUNT,
                SigmaCorrelationType.VALUE_COUNT,
                SigmaCorrelationType.TEMPORAL,
            ):
                raise CompileError(f"correlation type {sigma.type.name.lower()} is not supported")
            if not isinstance(sigma.condition, SigmaCorrelationCondition) and (
                sigma.type != SigmaCorrelationType.TEMPORAL
            ):
                raise CompileError("extended correlation conditions are not supported")
            parts = {}
            for ref in sigma.rules or []:
                if not isinstance(ref.rule, SigmaRule):
                    raise CompileError("a correlation of correlations is not supported")
                parts[_ref_name(ref.rule)] = compile_sigma(ref.rule, kind)
            compiled = Compiled(rule, parts=parts)
            correlation_sql(sigma, parts, None)  # group-by fields resolve, or say why
            return compiled
        return Compiled(rule, query=compile_sigma(sigma, kind))
    except CompileError as exc:
        return Compiled(rule, error=str(exc))


def _window(target: Target, start: str | None, end: str | None) -> list[str]:
    where = []
    for bound, op in ((start, ">="), (end, "<=")):
        if bound:
            moment = f"CAST({literal(bound)} AS TIMESTAMPTZ)"
            where.append(f"{target.time} {op} {moment}")
            if target.day:  # prunes whole day folders before time decides
                where.append(f"{target.day} {op} CAST({moment} AS DATE)")
    return where


@dataclass
class RuleRun:
    compiled: Compiled
    findings: list[Finding] = field(default_factory=list)
    events: int = 0
    seconds: float = 0.0
    skipped: str | None = None  # its logs are not in this case
    failed: str | None = None


@dataclass
class Detection:
    runs: list[RuleRun]
    seconds: float = 0.0
    passes: dict[str, float] = field(default_factory=dict)  # view -> seconds of its one pass

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.runs for f in r.findings]


def _finding(rule: Rule, row: dict[str, Any], details: dict[str, Any]) -> Finding:
    return Finding(
        kind="rule",
        id=rule.id,
        title=rule.title,
        severity=rule.severity,
        why=str(rule.sigma.description or rule.title).strip(),
        attack=rule.attack,
        subject=row["subject"],
        count=row["n"],
        first=row["first"],
        last=row["last"],
        sources=sorted(s for s in row["sources"] if s),
        examples=row["examples"],
        evidence=[r for r in row["evidence"] if r],
        details=details,
    )


def _aggregate(rows_sql: str, by: str | None) -> str:
    """Findings' columns from rows with time, ref, source, message and ``subject``."""
    keys = f"{by}, subject" if by else "subject"
    return (
        f"SELECT {keys}, count(*) AS n, {iso('min(time)')} AS first, "
        f"{iso('max(time)')} AS last, list(DISTINCT source) AS sources, "
        "list(message ORDER BY time, ref)[1:3] AS examples, "
        f"list(ref ORDER BY time, ref)[1:{EVIDENCE_CAP}] AS evidence "
        f"FROM ({rows_sql}) GROUP BY {keys} ORDER BY {keys.replace('subject', 'n DESC, subject')}"
    )


def _one_pass(target: Target, queries: list[tuple[str, Query]], window: list[str]) -> str:
    """SQL: for every row of ``target`` that any query matches, the ids of those that do."""
    labels = ", ".join(f"CASE WHEN ({q.condition}) THEN {literal(i)} END" for i, q in queries)
    anyone = " OR ".join(f"({q.condition})" for _, q in queries)
    where = " AND ".join([*([target.where] if target.where else []), *window, f"({anyone})"])
    rows = (
        f"SELECT {target.time} AS time, {target.ref} AS ref, source, message, "
        f"{target.subject} AS subject, "
        f"unnest(list_filter([{labels}], lambda x: x IS NOT NULL)) AS rule_id "
        f"FROM {ident(target.view)} AS e WHERE {where}"
    )
    return _aggregate(rows, "rule_id")


def run_rules(
    con: duckdb.DuckDBPyConnection,
    compiled: list[Compiled],
    start: str | None = None,
    end: str | None = None,
) -> Detection:
    """Run every compiled rule over the case behind ``con`` (``start``/``end``: ISO 8601)."""
    began = clock.perf_counter()
    present = set(views(con))
    runs: dict[str, RuleRun] = {}
    by_target: dict[tuple[str, str | None], list[tuple[str, Query]]] = {}
    for c in compiled:
        run = runs[c.rule.id] = RuleRun(c)
        if c.error is not None:
            run.failed = f"does not compile: {c.error}"
            continue
        if c.rule.referenced_only:
            continue
        reads = [c.query] if c.query is not None else list(c.parts.values())
        absent = sorted({q.target.view for q in reads} - present)
        if absent:
            run.skipped = f"no {', '.join(absent)} events in this case"
            continue
        if c.query is not None:
            key = (c.query.target.view, c.query.target.where)
            by_target.setdefault(key, []).append((c.rule.id, c.query))
    detection = Detection([])
    for queries in by_target.values():
        target = queries[0][1].target
        window = _window(target, start, end)
        t0 = clock.perf_counter()
        try:
            found = con.sql(_one_pass(target, queries, window)).to_arrow_table().to_pylist()
        except duckdb.Error:  # one broken rule must not hide the others: each alone
            found = []
            for rule_id, query in queries:
                try:
                    found += (
                        con.sql(_one_pass(target, [(rule_id, query)], window))
                        .to_arrow_table()
                        .to_pylist()
                    )
                except duckdb.Error as exc:
                    runs[rule_id].failed = str(exc).strip().splitlines()[0]
        detection.passes[target.view + (f" [{target.where}]" if target.where else "")] = (
            clock.perf_counter() - t0
        )
        for row in found:
            run = runs[row["rule_id"]]
            run.findings.append(
                _finding(run.compiled.rule, row, {"path": str(run.compiled.rule.path)})
            )
            run.events += row["n"]
    for c in compiled:
        run = runs[c.rule.id]
        if c.query is not None or c.error is not None or run.skipped or c.rule.referenced_only:
            continue
        sigma = c.rule.sigma
        assert isinstance(sigma, SigmaCorrelationRule)  # a rule without a query is one
        t0 = clock.perf_counter()
        try:
            sql = correlation_sql(sigma, c.parts, (start, end))
            for row in con.sql(sql).to_arrow_table().to_pylist():
                details = {
                    "path": str(c.rule.path),
                    "correlation": sigma.type.name.lower(),
                    "timespan": sigma.timespan.spec,
                    "peak": row["peak"],
                }
                run.findings.append(_finding(c.rule, row, details))
                run.events += row["n"]
        except (duckdb.Error, CompileError) as exc:
            run.failed = str(exc).strip().splitlines()[0]
        run.seconds = clock.perf_counter() - t0
    detection.runs = list(runs.values())
    detection.seconds = clock.perf_counter() - began
    return detection


def _group_expr(rule: SigmaCorrelationRule, name: str, ref: str, query: Query) -> str:
    """SQL of the ``group-by`` (or condition) field ``name`` in the rows of the rule ``ref``."""
    for alias in rule.aliases:
        if alias.alias == name:
            mapped = {_ref_name(r.rule): f for r, f in alias.mapping.items()}
            if ref not in mapped:
                raise CompileError(f"alias {name!r} does not say which field of {ref!r} it is")
            name = mapped[ref]
    target = query.target
    column = target.aliases.get(name, name)
    backend = DuckDBBackend().for_target(target)
    try:
        expr = backend.escape_and_quote_field(column)
    except UnknownField as exc:
        raise CompileError(str(exc)) from None
    if backend.unknown_fields:
        raise CompileError(f"group-by field {name!r} is not a field of {target.view}")
    return f"CAST({expr} AS VARCHAR)"


def correlation_sql(
    rule: SigmaCorrelationRule,
    parts: dict[str, Query],
    window: tuple[str | None, str | None] | None,
) -> str:
    """SQL of a correlation rule: one row per group whose windows met the condition."""
    group = list(rule.group_by or [])
    condition = rule.condition
    value = condition.fieldref if isinstance(condition, SigmaCorrelationCondition) else None
    if isinstance(value, list):
        if len(value) != 1:
            raise CompileError("value_count over several fields is not supported")
        value = value[0]
    if rule.type == SigmaCorrelationType.VALUE_COUNT and not value:
        raise CompileError("value_count needs condition.field")
    selects = []
    for name, query in parts.items():
        target = query.target
        keys = [f"{_group_expr(rule, g, name, query)} AS g{k}" for k, g in enumerate(group)]
        val = _group_expr(rule, value, name, query) if value else "NULL::VARCHAR"
        where = [
            *([target.where] if target.where else []),
            *_window(target, *(window or (None, None))),
            f"({query.condition})",
        ]
        selects.append(
            f"SELECT {literal(name)} AS rule_ref, {target.time} AS time, {target.ref} AS ref, "
            f"source, message, {val} AS value{''.join(', ' + k for k in keys)} "
            f"FROM {ident(target.view)} AS e WHERE {' AND '.join(where)}"
        )
    gs = [f"g{k}" for k in range(len(group))]
    partition = f"PARTITION BY {', '.join(gs)} " if gs else ""
    span = f"INTERVAL {int(rule.timespan.seconds)} SECOND"
    frame = f"({partition}ORDER BY time RANGE BETWEEN {span} PRECEDING AND CURRENT ROW)"
    if rule.type == SigmaCorrelationType.EVENT_COUNT:
        measure = f"count(*) OVER {frame}"
    elif rule.type == SigmaCorrelationType.VALUE_COUNT:
        measure = f"count(DISTINCT value) OVER {frame}"
    else:
        measure = f"count(DISTINCT rule_ref) OVER {frame}"
    if isinstance(condition, SigmaCorrelationCondition):
        test = f"peak {_OPS[condition.op]} {condition.count}"
    else:  # temporal without a count: every named rule
        test = f"peak >= {len(parts)}"

    def label(row: str) -> str:
        if not gs:
            return "'(all)'"
        named = (
            f"{literal(g + '=')} || coalesce({row}.{c}, '-')"
            for g, c in zip(group, gs, strict=True)
        )
        return f"concat_ws(', ', {', '.join(named)})"

    # An event is evidence when a window that met the condition holds it: when the first
    # qualifying window end at or after it is within the timespan. One more window function,
    # instead of joining every event to every qualifying window (quadratic in busy groups).
    ahead = f"({partition}ORDER BY time RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)"
    return (
        f"WITH m AS ({' UNION ALL '.join(selects)}), "
        f"q AS (SELECT *, {measure} AS peak FROM m), "
        f"r AS (SELECT *, {test} AS met, "
        f"min(CASE WHEN {test} THEN time END) OVER {ahead} AS next_met FROM q), "
        f"hit AS (SELECT *, {label('r')} AS subject FROM r WHERE next_met <= time + {span}), "
        "peaks AS (SELECT subject, max(peak) FILTER (WHERE met) AS peak FROM hit GROUP BY subject) "
        f"SELECT f.*, peaks.peak FROM ({_aggregate('SELECT * FROM hit', None)}) AS f "
        "JOIN peaks USING (subject) ORDER BY n DESC, subject"
    )
