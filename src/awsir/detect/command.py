"""The ``awsir detect`` and ``awsir rules ...`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from awsir.console import case_connection, err, out
from awsir.detect.engine import Compiled, Detection, compile_rule, run_rules
from awsir.detect.rules import Rule, RuleProblem, load_rules
from awsir.detect.targets import PIPELINES
from awsir.findings import Severity, save_findings
from awsir.store.case import DEFAULT_CASE

RulesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        help="Sigma rule files or folders to run with the built-in rules (e.g. a SigmaHQ "
        "checkout's rules/cloud/aws); repeatable.",
    ),
]
BuiltinOption = Annotated[
    bool, typer.Option("--builtin/--no-builtin", help="Include awsir's own rules.")
]
DownloadedOption = Annotated[
    bool,
    typer.Option(
        "--sigmahq/--no-sigmahq",
        help="Include the SigmaHQ AWS rules fetched by `awsir rules update`, if any.",
    ),
]
PipelineOption = Annotated[
    str,
    typer.Option(
        "--pipeline",
        help="native: each source's view under AWS's field names; ocsf: the OCSF views, "
        "with rule fields mapped to OCSF attributes.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]


def _rules(
    paths: list[Path] | None, builtin: bool, downloaded: bool
) -> tuple[list[Rule], list[RuleProblem]]:
    from awsir.detect.update import default_folder

    extra = list(paths or [])
    folder = default_folder()
    if downloaded and folder.is_dir():
        extra.append(folder)
    return load_rules(extra, builtin=builtin)


def _check_pipeline(name: str) -> None:
    if name not in PIPELINES:
        err.print(Text(f"error: --pipeline is one of {', '.join(PIPELINES)}"))
        raise typer.Exit(2)


def _report_problems(problems: list[RuleProblem]) -> None:
    for problem in problems:
        err.print(Text(f"warning: rule not loaded: {problem}", style="yellow"))


def detect_command(
    case: Annotated[Path, typer.Option("--case", help="Case folder.")] = DEFAULT_CASE,
    rules: RulesOption = None,
    builtin: BuiltinOption = True,
    downloaded: DownloadedOption = True,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only this rule (id); repeatable.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Only events from, ISO 8601 (UTC by default).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Only events until, ISO 8601.")] = None,
    kind: PipelineOption = "native",
    as_json: JsonOption = False,
) -> None:
    """Run Sigma rules over a case: awsir's own (VPC flow, DNS, S3 access, web, WAF,
    GuardDuty and CloudTrail techniques) plus any you name, unchanged. One finding per rule and
    subject, kept in the case: `awsir timeline --finding RULE` shows its events."""
    _check_pipeline(kind)
    loaded, problems = _rules(rules, builtin, downloaded)
    _report_problems(problems)
    if only:
        unknown = sorted(set(only) - {r.id for r in loaded})
        if unknown:
            err.print(Text(f"error: no rule {', '.join(unknown)} (see `awsir rules list`)"))
            raise typer.Exit(2)
        wanted = set(only)
        named = {
            id(ref.rule)
            for r in loaded
            if r.id in wanted
            for ref in getattr(r.sigma, "rules", None) or []
        }
        loaded = [r for r in loaded if r.id in wanted or id(r.sigma) in named]
    compiled = [compile_rule(r, kind) for r in loaded]
    with case_connection(case) as con:
        detection = run_rules(con, compiled, start, end)
    saved = save_findings(case, "rule", detection.findings)
    if as_json:
        typer.echo(json.dumps(_as_json(detection), indent=2, default=str))
    else:
        _print(detection)
        err.print(Text(f"findings kept in {saved}"))
    if any(r.failed and r.compiled.error is None for r in detection.runs):
        raise typer.Exit(1)


def _as_json(detection: Detection) -> dict[str, Any]:
    runs = detection.runs
    return {
        "findings": [f.as_dict() for f in detection.findings],
        "ran": [
            r.compiled.rule.id
            for r in runs
            if not (r.failed or r.skipped) and not r.compiled.rule.referenced_only
        ],
        "skipped": {r.compiled.rule.id: r.skipped for r in runs if r.skipped},
        "failed": {r.compiled.rule.id: r.failed for r in runs if r.failed},
        "seconds": round(detection.seconds, 3),
        "passes": {k: round(v, 3) for k, v in detection.passes.items()},
        "correlations": {
            r.compiled.rule.id: round(r.seconds, 3)
            for r in runs
            if r.compiled.parts and not (r.failed or r.skipped)
        },
    }


def _print(detection: Detection) -> None:
    order = list(Severity)[::-1]
    findings = sorted(detection.findings, key=lambda f: (order.index(f.severity), -f.count, f.id))
    table = Table(title=f"awsir detect: {len(findings)} finding(s)", title_justify="left")
    for name in ("severity", "rule", "subject", "events", "first", "last", "ATT&CK"):
        table.add_column(name, overflow="fold")
    for f in findings:
        table.add_row(
            f.severity,
            Text(f"{f.title} ({f.id})"),
            Text(f.subject or ""),
            f"{f.count:,}",
            f.first or "",
            f.last or "",
            ", ".join(f.attack),
        )
    out.print(table)
    ran = [
        r
        for r in detection.runs
        if not (r.failed or r.skipped) and not r.compiled.rule.referenced_only
    ]
    err.print(Text(f"{len(ran)} rule(s) ran in {detection.seconds:.2f} s"))
    for r in detection.runs:
        if r.skipped:
            err.print(Text(f"skipped {r.compiled.rule.id}: {r.skipped}", style="yellow"))
        if r.failed:
            style = "yellow" if r.compiled.error else "red"
            err.print(
                Text(f"rule {r.compiled.rule.id} ({r.compiled.rule.path}): {r.failed}", style=style)
            )


rules_app = typer.Typer(
    help="The Sigma rules awsir runs: list them, show one's SQL, test them on their cases, "
    "fetch SigmaHQ's latest AWS rules.",
    no_args_is_help=True,
)


@rules_app.command("list")
def list_command(
    rules: RulesOption = None,
    builtin: BuiltinOption = True,
    downloaded: DownloadedOption = True,
    as_json: JsonOption = False,
) -> None:
    """Every rule awsir would run: id, severity, what it reads, ATT&CK techniques."""
    loaded, problems = _rules(rules, builtin, downloaded)
    _report_problems(problems)
    if as_json:
        typer.echo(json.dumps([r.meta() for r in loaded], indent=2))
        return
    table = Table(title=f"{len(loaded)} rule(s)", title_justify="left")
    for name in ("id", "severity", "kind", "reads", "title", "ATT&CK", "from"):
        table.add_column(name, overflow="fold")
    for r in loaded:
        table.add_row(
            r.id,
            str(r.severity),
            r.kind + (" (counted)" if r.referenced_only else ""),
            Text(r.logsource),
            Text(r.title),
            ", ".join(r.attack),
            r.provider,
        )
    out.print(table)


def _find(rule_id: str, loaded: list[Rule]) -> Rule:
    for r in loaded:
        if r.id == rule_id:
            return r
    err.print(Text(f"error: no rule {rule_id!r} (see `awsir rules list`)"))
    raise typer.Exit(2)


@rules_app.command("show")
def show_command(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="The rule's id.")],
    rules: RulesOption = None,
    builtin: BuiltinOption = True,
    downloaded: DownloadedOption = True,
    kind: PipelineOption = "native",
    as_json: JsonOption = False,
) -> None:
    """A rule's metadata, the view it reads and the DuckDB SQL it compiles to."""
    _check_pipeline(kind)
    loaded, problems = _rules(rules, builtin, downloaded)
    _report_problems(problems)
    rule = _find(rule_id, loaded)
    compiled: Compiled = compile_rule(rule, kind)
    meta = rule.meta() | {"pipeline": kind, "sql": compiled.sql, "error": compiled.error}
    unknown = compiled.query.unknown_fields if compiled.query else []
    meta["unknown_fields"] = unknown
    if as_json:
        typer.echo(json.dumps(meta, indent=2))
        return
    for key in ("id", "title", "severity", "kind", "logsource", "attack", "path", "cases"):
        out.print(Text(f"{key}: {meta[key]}"))
    if meta["description"]:
        out.print(Text(f"description: {' '.join(str(meta['description']).split())}"))
    if unknown:
        err.print(
            Text(
                f"warning: fields absent from the view (never match): {', '.join(unknown)}",
                style="yellow",
            )
        )
    if compiled.error:
        err.print(Text(f"error: does not compile ({kind}): {compiled.error}"))
        raise typer.Exit(1)
    out.print(Text(f"sql ({kind}):"))
    out.print(Text(compiled.sql or ""))


@rules_app.command("test")
def test_command(
    rule_ids: Annotated[
        list[str] | None, typer.Argument(metavar="[ID]...", help="Rules to test (default: all).")
    ] = None,
    rules: RulesOption = None,
    builtin: BuiltinOption = True,
    as_json: JsonOption = False,
) -> None:
    """Run each rule on its own cases: the positive one must fire, the negative one must not.
    Rules without cases (a SigmaHQ set) are listed as untested."""
    from awsir.detect.cases import test_rule

    loaded, problems = load_rules(list(rules or []), builtin=builtin)
    _report_problems(problems)
    chosen = (
        [_find(i, loaded) for i in rule_ids]
        if rule_ids
        else [r for r in loaded if not r.referenced_only]
    )
    tests = [test_rule(r) for r in chosen]
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "rule": t.rule.id,
                        "ok": t.ok,
                        "problem": t.problem,
                        "cases": [vars(c) for c in t.results],
                    }
                    for t in tests
                ],
                indent=2,
            )
        )
    else:
        table = Table(title="awsir rules test", title_justify="left")
        for name in ("rule", "case", "result", "findings", "events", "rows", "why"):
            table.add_column(name, overflow="fold")
        for t in tests:
            if t.problem:
                table.add_row(
                    t.rule.id,
                    "",
                    "untested" if "no " in t.problem else "FAIL",
                    "",
                    "",
                    "",
                    Text(t.problem),
                )
            for c in t.results:
                table.add_row(
                    t.rule.id,
                    c.kind,
                    "ok" if c.ok else "FAIL",
                    str(c.findings),
                    str(c.events),
                    str(c.rows),
                    Text(c.problem or ""),
                )
        out.print(table)
    failed = [t for t in tests if not t.ok and not (t.problem or "").startswith("no ")]
    err.print(
        Text(
            f"{sum(t.ok for t in tests)} passed, {len(failed)} failed, "
            f"{sum((t.problem or '').startswith('no ') for t in tests)} without cases"
        )
    )
    if failed:
        raise typer.Exit(1)


@rules_app.command("update")
def update_command(
    url: Annotated[
        str | None, typer.Option("--url", help="Release archive (default: SigmaHQ's latest).")
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dest",
            help="Where to keep them (default: $AWSIR_SIGMA_DIR or "
            "~/.local/share/awsir/sigmahq-aws).",
        ),
    ] = None,
) -> None:
    """Download SigmaHQ's latest release archive and keep its AWS rules, which `awsir detect`
    then runs with the built-in ones (needs internet; the only command here that does)."""
    from awsir.detect.update import RELEASE_URL, UpdateError, update

    try:
        done = update(url or RELEASE_URL, folder)
    except UpdateError as exc:
        err.print(Text(f"error: {exc}"))
        raise typer.Exit(1) from None
    for name in done.refused:
        err.print(
            Text(f"warning: refused archive member {name!r} (outside the folder)", style="yellow")
        )
    loaded, problems = load_rules([done.folder], builtin=False)
    _report_problems(problems)
    out.print(
        Text(
            f"{done.rules} AWS rule file(s) from {done.url} (sha256 {done.sha256[:16]}…) "
            f"in {done.folder}; {len(loaded)} rule(s) load"
        )
    )
