"""The ``awsir`` command line: thin commands over library functions.

Output goes to stdout (tables, cards, JSON); warnings and errors go to stderr so that
``--json`` output stays parseable. Every string taken from a card is printed as plain text,
never as Rich markup: plugin cards are not trusted.
"""

from __future__ import annotations

import io
import json
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import pyarrow as pa
import pyarrow.compute
import pyarrow.csv as pacsv
import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from awsir import __version__
from awsir.aws.s3 import split_uri
from awsir.catalog import (
    GROUP,
    LISTING,
    Answer,
    Catalog,
    Source,
    as_text,
    field_rows,
    find_answers,
    load_catalog,
    title_at,
)
from awsir.collect.command import collect_command
from awsir.console import case_connection, err, out
from awsir.demo.command import demo_command
from awsir.detect.command import detect_command, rules_app
from awsir.findings import Severity, finding_refs, save_findings
from awsir.parse.batch import FileReport
from awsir.parse.engine import UnknownFormat, input_files, parse_files
from awsir.parse.output import FORMATS, StdoutSink, clear_parts, part_files
from awsir.parse.parallel import parse_to_folder
from awsir.parse.template import TemplateError, is_template
from awsir.readiness.command import history_command, scan_command
from awsir.sources.schema import LogType
from awsir.store.case import DEFAULT_CASE, Case, CaseError
from awsir.store.export import DEFAULT_QUERY, athena_ddl, export_rows
from awsir.store.export import FORMATS as EXPORT_FORMATS
from awsir.store.hunt import HuntError, HuntRun, load_hunts, run_hunts
from awsir.store.ingest import IngestResult, ingest
from awsir.store.investigate import Subject, pivot, timeline
from awsir.store.ocsf import export_security_lake
from awsir.store.query import QueryError, run_sql, summarize
from awsir.web.command import serve_command

app = typer.Typer(
    name="awsir",
    help="AWS incident readiness and response: know your logs before you need them.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"awsir {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """AWS incident readiness and response: know your logs before you need them."""


def _warn_problems(catalog: Catalog) -> None:
    for problem in catalog.problems:
        err.print(Text(f"warning: {problem}", style="yellow"))


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _listing(sources: list[Source], title: str) -> None:
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("ID", style="bold cyan", no_wrap=True)
    for path in LISTING:
        table.add_column(title_at(path), overflow="fold")
    for source in sources:
        table.add_row(Text(source.id), *(Text(as_text(source.card_value(p))) for p in LISTING))
    out.print(table)


def _answers(found: list[Answer], title: str) -> None:
    table = Table(title=title, title_justify="left", expand=False, show_lines=True)
    table.add_column("ID", style="bold cyan", no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold")
    table.add_column("Questions it answers", ratio=2, overflow="fold")
    for answer in found:
        questions = "\n".join(f"• {q}" for q in answer.questions) or "(mentions it)"
        table.add_row(Text(answer.source.id), Text(answer.source.card.title), Text(questions))
    out.print(table)


def _card(source: Source) -> None:
    out.print(Text(f"{source.card.title}  ({source.id})", style="bold"))
    if source.unit.provider != "awsir":
        out.print(Text(f"provided by {source.unit.provider}", style="dim"))
    table = Table(show_header=False, box=None, pad_edge=False, expand=False)
    table.add_column(style="bold", no_wrap=True, vertical="top")
    table.add_column(overflow="fold")
    for depth, label, value in field_rows(source.card):
        if value is GROUP:
            table.add_row(Text("  " * depth + label, style="underline"), Text(""))
            continue
        if isinstance(value, list) and len(value) > 1:
            shown = "\n".join(f"• {as_text(v)}" for v in value)
        else:
            shown = as_text(value)
        table.add_row(Text("  " * depth + label), Text(shown))
    out.print(table)


def _fields(source: Source, as_json: bool) -> None:
    if source.parse is None:
        err.print(Text(f"awsir has no format definition for {source.id!r} yet."))
        raise typer.Exit(1)
    if as_json:
        _print_json(source.parse.model_dump(mode="json"))
        return
    for name, table in source.parse.tables.items():
        title = f"Table {name}: {table.reader}, layout {table.layout}, {len(table.fields)} fields"
        grid = Table(title=title, title_justify="left", expand=False)
        for column in ("Column", "AWS field", "Type", "Since", "What it holds"):
            grid.add_column(column, overflow="fold")
        for f in table.fields:
            cells = (", ".join(f.columns), f.name, f.type, f.since or "", f.doc)
            grid.add_row(*(Text(c) for c in cells))
        out.print(grid)


@app.command("sources")
def sources_command(
    source_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[ID]", help="Show the whole card of this source.", show_default=False
        ),
    ] = None,
    answers: Annotated[
        str | None,
        typer.Option(
            "--answers",
            "-a",
            metavar="TEXT",
            help="Find the sources that answer an incident question, e.g. 'dns' or 's3 object'.",
            show_default=False,
        ),
    ] = None,
    log_type: Annotated[
        LogType | None,
        typer.Option("--type", "-t", help="Only sources of this log type.", show_default=False),
    ] = None,
    fields: Annotated[
        bool,
        typer.Option(
            "--fields", help="With an ID: the tables and fields awsir reads from its log files."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable output with every card field.")
    ] = False,
) -> None:
    """The catalog of AWS log sources: what each records, where it goes, how to turn it on.

    Without arguments, lists every source (id, title, log type, on by default, latency,
    destinations). With an ID, shows that source's whole card. With --answers, ranks the
    sources whose incident questions match the words given. Exit code 2 for an unknown ID,
    1 when --answers finds nothing.
    """
    catalog = load_catalog()
    _warn_problems(catalog)
    if source_id is not None and answers is not None:
        err.print("error: give either a source ID or --answers, not both")
        raise typer.Exit(2)
    if source_id is not None:
        source = catalog.sources.get(source_id)
        if source is None:
            near = catalog.close_matches(source_id)
            hint = f" Did you mean: {', '.join(near)}?" if near else ""
            err.print(
                Text(f"error: no log source {source_id!r}.{hint} Run 'awsir sources' to list all.")
            )
            raise typer.Exit(2)
        if fields:
            _fields(source, as_json)
        elif as_json:
            _print_json(source.to_dict())
        else:
            _card(source)
        return
    if fields:
        err.print("error: --fields needs a source ID")
        raise typer.Exit(2)
    if log_type is not None:
        catalog.sources = {k: s for k, s in catalog.sources.items() if s.card.log_type == log_type}
    if answers is not None:
        found = find_answers(catalog, answers)
        if as_json:
            _print_json([{**a.source.to_dict(), "matched_questions": a.questions} for a in found])
        elif not found:
            err.print(Text(f"No source's questions or description match {answers!r}."))
        else:
            _answers(found, f"Sources that answer {answers!r}, best first")
        if not found:
            raise typer.Exit(1)
        return
    everything = list(catalog)
    kind = f"{log_type.value} " if log_type else ""
    if as_json:
        _print_json([s.to_dict() for s in everything])
    else:
        _listing(everything, f"{len(everything)} AWS {kind}log sources (awsir sources ID: a card)")


app.command("scan")(scan_command)
app.command("history")(history_command)
app.command("collect")(collect_command)
app.command("detect")(detect_command)
app.add_typer(rules_app, name="rules")
app.command("serve")(serve_command)
app.command("demo")(demo_command)


@app.command("parse")
def parse_command(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="FILE_OR_DIR...", help="Log files (.gz, .zip or plain) or folders."),
    ],
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="auto (recognise each file), or a table or source id."),
    ] = "auto",
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help="Field names in order, for files without a header (VPC flow logs from "
            "CloudWatch Logs), e.g. 'version account-id interface-id ...'; or, with --format, "
            "the JSON format a customer-defined log was written with (API Gateway stage "
            "accessLogSettings.format).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        str, typer.Option("--out", help="Output format: jsonl, csv or parquet.")
    ] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Folder for a sub-folder of part files per table, plus quarantine/ (needed "
            "for csv and parquet). Part files of an earlier run there are replaced. Without "
            "it, JSON lines go to stdout.",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            help="Worker processes with -o (0: one per core). Stdout output uses one.",
        ),
    ] = 0,
) -> None:
    """Read AWS log files of any known format into typed rows, losing nothing.

    Each file's format is recognised from its content and name (or given with --format).
    Every record becomes a row or a quarantine entry with file, line and reason. On stderr: a
    line for each file with a problem, then files, rows and quarantined records per table.
    """
    catalog = load_catalog()
    _warn_problems(catalog)
    if out not in FORMATS:
        err.print(f"error: --out must be one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    if output is None and out != "jsonl":
        err.print(f"error: --out {out} writes files: give a folder with -o")
        raise typer.Exit(2)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        err.print(Text(f"error: no such file or folder: {', '.join(missing)}"))
        raise typer.Exit(2)
    forced = None if format == "auto" else format
    names = None
    if fields and is_template(fields):
        if forced is None:
            err.print("error: a JSON format in --fields needs --format (the table it describes)")
            raise typer.Exit(2)
        names = [fields]
    elif fields:
        names = fields.replace(",", " ").split()
    sink = StdoutSink() if output is None else None
    reports: list[FileReport] = []
    files = list(input_files(paths))
    progress = Progress(
        TextColumn("parsing"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    total = sum(p.stat().st_size for p in files if p.is_file())  # others are reported, not read
    task = progress.add_task("parse", total=total, rows=0)
    seen: set[Path] = set()
    size = rows = 0
    if output is not None:
        clear_parts(output)
        run = parse_to_folder(files, output, out, format=forced, fields=names, jobs=jobs)
    else:
        assert sink is not None
        run = parse_files(files, catalog, sink, format=forced, fields=names)
    try:
        with progress:
            for report in run:
                reports.append(report)
                outer = Path(report.file.split("!", 1)[0])
                if outer not in seen and outer.is_file():
                    seen.add(outer)
                    size += outer.stat().st_size
                rows += report.rows
                progress.update(task, completed=size, rows=rows)
                if report.problem:
                    err.print(Text(f"{report.file}: {report.problem}", style="yellow"))
    except (UnknownFormat, TemplateError) as exc:
        err.print(Text(f"error: {exc}"))
        raise typer.Exit(2) from None
    finally:
        if sink is not None:
            sink.close()
    _parse_summary(reports, sink, output)


def _parse_summary(reports: list[FileReport], sink: StdoutSink | None, output: Path | None) -> None:
    per_table: dict[str, list[int]] = {}
    for r in reports:
        counts = per_table.setdefault(r.table or "(not recognised)", [0, 0, 0])
        counts[0] += 1
        counts[1] += r.rows
        counts[2] += r.quarantined
    table = Table(title="awsir parse", title_justify="left")
    for column in ("Table", "Files", "Rows", "Quarantined"):
        table.add_column(column, justify="left" if column == "Table" else "right")
    for name, (files, rows, bad) in sorted(per_table.items()):
        table.add_row(name, f"{files:,}", f"{rows:,}", f"{bad:,}")
    err.print(table)
    if output is not None:
        for path in part_files(output):
            err.print(Text(f"wrote {path}"))
    elif sink is not None and sink.quarantined:
        err.print(Text(f"{sink.quarantined:,} quarantined records: use -o DIR to keep them."))


CaseOption = Annotated[
    Path,
    typer.Option("--case", help="Case folder (its lake, quarantine and catalog of views)."),
]


class RowsFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


RowsOption = Annotated[
    RowsFormat, typer.Option("--format", "-f", help="table, csv or json (JSON lines).")
]


@app.command("ingest")
def ingest_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...",
            help="Log files (.gz, .zip or plain), folders, or s3://BUCKET/PREFIX.",
        ),
    ],
    case: CaseOption = DEFAULT_CASE,
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS profile (s3:// inputs).")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="AWS Region (s3:// inputs).")
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Worker processes; 0: one per core.", min=0)
    ] = 0,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for another ingest into the case to finish.")
    ] = False,
) -> None:
    """Add log files to a case's evidence lake: parsed once each (a file whose content is
    already in the case adds nothing), all or nothing (an interrupted ingest leaves no partial
    rows; the next one finishes it)."""
    missing = [p for p in paths if not p.startswith("s3://") and not Path(p).exists()]
    if missing:
        err.print(Text(f"error: no such file or folder: {', '.join(missing)}"))
        raise typer.Exit(2)
    for uri in (p for p in paths if p.startswith("s3://")):
        try:
            split_uri(uri)
        except ValueError as exc:
            err.print(Text(f"error: {exc}"))
            raise typer.Exit(2) from None
    progress = Progress(
        TextColumn("ingesting"),
        BarColumn(),
        TextColumn("{task.completed:,} files, {task.fields[rows]:,} events"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    task = progress.add_task("ingest", total=None, rows=0)
    counted = {"rows": 0}

    def seen(report: FileReport) -> None:
        counted["rows"] += report.rows
        progress.update(task, advance=1, rows=counted["rows"])
        if report.problem:
            err.print(Text(f"{report.file}: {report.problem}", style="yellow"))

    started = time.monotonic()
    try:
        with progress:
            result = ingest(
                paths, Case(case), jobs=jobs, wait=wait, on_report=seen,
                profile=profile, region=region,
            )  # fmt: skip
    except CaseError as exc:
        err.print(Text(f"error: {exc}"))
        raise typer.Exit(1) from None
    except (BotoCoreError, ClientError) as exc:  # credentials, access, no such bucket
        err.print(Text(f"error: reading from S3: {exc}"))
        raise typer.Exit(1) from None
    except (duckdb.Error, OSError) as exc:  # out of memory or disk: nothing was committed
        first = str(exc).splitlines()[0]
        err.print(Text(f"error: ingest stopped, nothing added to the case: {first}"))
        raise typer.Exit(1) from None
    _ingest_summary(result, case, time.monotonic() - started)


@app.command("spark-ingest")
def spark_ingest_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...",
            help="Log files or folders as Spark reads them: local paths, s3a://BUCKET/PREFIX "
            "(s3:// on EMR), hdfs://...",
        ),
    ],
    case: Annotated[
        str,
        typer.Option(
            "--case", help="Case folder on this machine, or a URI (s3a://BUCKET/case, hdfs://...)."
        ),
    ] = str(DEFAULT_CASE),
    master: Annotated[
        str,
        typer.Option(
            "--master",
            help="Spark master: local[*] runs Spark here on every core; or a cluster URL.",
        ),
    ] = "local[*]",
) -> None:
    """Ingest on Apache Spark, for evidence that outgrows one machine: the same parsers, the
    same case layout (lake, quarantine, registry), written by Spark's executors. Needs
    `pip install 'awsir[spark]'` and Java 17+. A case on this machine gets its catalog, so
    every other command works on it; `athena.sql` at the case root creates Athena tables."""
    try:
        from awsir.spark.job import SparkIngestError, session, spark_ingest
    except ImportError as exc:
        err.print(Text(f"error: Spark is not installed ({exc}): pip install 'awsir[spark]'"))
        raise typer.Exit(2) from None
    started = time.monotonic()
    try:
        spark = session(master)
    except Exception as exc:  # noqa: BLE001 - no Java, bad master URL: said in one line
        err.print(Text(f"error: cannot start Spark ({master}): {str(exc).strip().splitlines()[0]}"))
        raise typer.Exit(1) from None

    def seen(report: FileReport) -> None:
        if report.problem:
            err.print(Text(f"{report.file}: {report.problem}", style="yellow"))

    try:
        result = spark_ingest(spark, paths, case, on_report=seen)
    except (SparkIngestError, CaseError) as exc:
        err.print(Text(f"error: {exc}"))
        raise typer.Exit(1) from None
    except Exception as exc:  # noqa: BLE001 - a Spark or JVM failure: one line, nothing committed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        err.print(Text(f"error: Spark failed, nothing added to the case: {first}"))
        raise typer.Exit(1) from None
    finally:
        spark.stop()
    _ingest_summary(result, case, time.monotonic() - started)


def _ingest_summary(result: IngestResult, case: Path | str, seconds: float) -> None:
    if result.recovered:
        err.print(Text(f"recovered: {result.recovered}", style="yellow"))
    events = sum(result.per_source.values())
    rate = f", {events / seconds:,.0f} events/s" if seconds > 0 and events else ""
    err.print(
        Text(
            f"{result.new_files:,} new file(s), {result.skipped_files:,} already in the case; "
            f"{events:,} events, {result.quarantined:,} quarantined in {seconds:.1f} s{rate}"
        )
    )
    if result.per_source:
        table = Table(title=f"awsir ingest -> {case}", title_justify="left")
        table.add_column("Source")
        table.add_column("Events", justify="right")
        for source, count in result.per_source.items():
            table.add_row(source, f"{count:,}")
        err.print(table)
    if result.first is not None:
        err.print(
            Text(
                f"time span: {result.first:%Y-%m-%dT%H:%M:%SZ} .. {result.last:%Y-%m-%dT%H:%M:%SZ}"
            )
        )
    if result.accounts:
        err.print(Text(f"accounts: {', '.join(result.accounts)}"))
    if result.regions:
        err.print(Text(f"Regions: {', '.join(result.regions)}"))


@app.command("query")
def query_command(
    sql: Annotated[str, typer.Argument(help="SQL over the case's views (events, cloudtrail...).")],
    case: CaseOption = DEFAULT_CASE,
    format: RowsOption = RowsFormat.table,
) -> None:
    """Ask a case anything in SQL (DuckDB); the case is opened read-only."""
    with case_connection(case) as con:
        try:
            result = run_sql(con, sql)
        except QueryError as exc:
            err.print(Text(f"error: {exc}"))
            raise typer.Exit(2) from None
    _print_rows(result, format)


def _print_rows(result: pa.Table, format: RowsFormat) -> None:
    if format == RowsFormat.csv:
        buffer = io.BytesIO()
        pacsv.write_csv(_plain_table(result), buffer)
        sys.stdout.write(buffer.getvalue().decode("utf-8"))
    elif format == RowsFormat.json:
        for row in result.to_pylist():
            sys.stdout.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")
    else:
        table = Table(show_lines=False)
        for name in result.column_names:
            table.add_column(name, overflow="fold")
        for row in result.to_pylist():
            table.add_row(*(Text("" if v is None else str(v)) for v in row.values()))
        out.print(table)
        err.print(Text(f"{result.num_rows:,} row(s)"))


def _json_value(value: object) -> object:
    """JSON for what DuckDB returns beyond JSON's types: sums are decimals, times ISO 8601."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _plain_table(result: pa.Table) -> pa.Table:
    """CSV takes no extension or nested types: such columns as their text."""
    columns = [
        pa.compute.cast(c, pa.string()) if not (
            pa.types.is_primitive(c.type) or pa.types.is_string(c.type)
            or pa.types.is_timestamp(c.type) or pa.types.is_date(c.type)
        ) else c
        for c in result.columns
    ]  # fmt: skip
    return pa.table(columns, names=result.column_names)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


@app.command("summary")
def summary_command(
    case: CaseOption = DEFAULT_CASE,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """What a case holds: events per source and time range, accounts, Regions, top actors,
    top errors, quarantine reasons."""
    with case_connection(case) as con:
        found = summarize(con)
    if as_json:
        _print_json(found.as_dict())
        return
    out.print(Text(f"Case {case}: {found.files:,} file(s) ingested"))
    for title, rows in (
        ("Sources", found.sources), ("Accounts", found.accounts), ("Regions", found.regions),
        ("Top actors", found.actors), ("Top errors", found.errors),
        ("Quarantine reasons", found.quarantined),
    ):  # fmt: skip
        _print_section(title, rows)


@app.command("timeline")
def timeline_command(
    case: CaseOption = DEFAULT_CASE,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Principal ARN or name (contained in actor).")
    ] = None,
    access_key: Annotated[
        str | None, typer.Option("--access-key", help="Access key id (AKIA..., ASIA...).")
    ] = None,
    ip: Annotated[
        str | None, typer.Option("--ip", help="Source or destination IP address.")
    ] = None,
    resource: Annotated[
        str | None, typer.Option("--resource", help="Text contained in the resource.")
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Session name of an assumed role.")
    ] = None,
    text: Annotated[
        list[str] | None,
        typer.Option(
            "--text",
            help="Free text, such as an IOC (domain, address, key, bucket, user agent part): "
            "contained in the message or user agent. Repeatable: events with any of them.",
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Start time, ISO 8601 (UTC without an offset).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="End time, ISO 8601.")] = None,
    sources: Annotated[
        list[str] | None, typer.Option("--sources", help="Only this source (table); repeatable.")
    ] = None,
    finding: Annotated[
        str | None,
        typer.Option(
            "--finding",
            help="The events of a finding kept by `awsir detect` or `awsir hunt`: the rule or "
            "hunt id, optionally ID@SUBJECT for one subject's.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many events.", min=1)] = 1000,
    format: RowsOption = RowsFormat.table,
) -> None:
    """One chronological view across every source of a case (API calls, flows, DNS, HTTP
    requests, findings), with each event's one-line message."""
    subject = Subject(
        actor, access_key, ip, resource, session, list(text or []), start, end, list(sources or [])
    )
    if finding:
        subject.refs = _finding_refs(case, finding)
    with case_connection(case) as con:
        try:
            result = timeline(con, subject, limit)
        except duckdb.Error as exc:
            err.print(Text(f"error: {str(exc).splitlines()[0]}"))
            raise typer.Exit(2) from None
    if format != RowsFormat.table:
        _print_rows(result, format)
        return
    table = Table(box=None, pad_edge=False)  # a terminal is narrow: the message says it all
    for name in ("time (UTC)", "source", "outcome", "message"):
        table.add_column(name, no_wrap=name != "message", overflow="fold")
    for row in result.to_pylist():
        when = row["time"].strftime("%Y-%m-%d %H:%M:%S") if row["time"] else ""
        table.add_row(when, row["source"], row["outcome"] or "", Text(row["message"] or ""))
    out.print(table)
    err.print(
        Text(
            f"{result.num_rows:,} event(s)"
            + (" (--limit reached)" if result.num_rows == limit else "")
        )
    )


def _finding_refs(case: Path, finding: str) -> list[str]:
    refs = finding_refs(case, finding)
    if refs is None:
        err.print(Text(f"error: no finding {finding!r} kept in {case} (run `awsir detect` or "
                       "`awsir hunt` first; ids are listed in their output)"))  # fmt: skip
        raise typer.Exit(2)
    return refs


@app.command("pivot")
def pivot_command(
    value: Annotated[
        str, typer.Argument(help="An IP address, principal ARN, access key id or resource.")
    ],
    case: CaseOption = DEFAULT_CASE,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Everything related to one value: where and when it was seen, what it did (or what was
    done to it) and with what result, from which addresses and user agents, in which Regions,
    on which resources, and the identities linked to it through an access key or source IP."""
    with case_connection(case) as con:
        found = pivot(con, value)
    if as_json:
        _print_json(found)
        return
    out.print(Text(f"{found['kind']} {value}"))
    if not found["seen"]:
        out.print(Text("not seen in this case"))
        return
    for key, title in (
        ("seen", "Seen in"), ("actions", "Actions"), ("actors", "Actors"),
        ("source_ips", "Source IPs"), ("user_agents", "User agents"), ("regions", "Regions"),
        ("resources", "Resources"), ("linked", "Linked identities"),
    ):  # fmt: skip
        _print_section(title, found[key])


def _print_section(title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = Table(title=title, title_justify="left")
    for name in rows[0]:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell(v)) for v in row.values()))
    out.print(table)


@app.command("hunt")
def hunt_command(
    case: CaseOption = DEFAULT_CASE,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only this hunt (id); repeatable.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Findings as JSON on stdout.")] = False,
) -> None:
    """Run the built-in incident hunts over a case: console sign-ins without MFA, root use,
    logging tampering, IAM persistence, secret harvesting, snapshot sharing, mass S3 access,
    scans, large outbound transfers, DNS bursts, WAF blocks... One finding per subject."""
    try:
        hunts = load_hunts()
    except HuntError as exc:
        err.print(Text(f"error: {exc}"))
        raise typer.Exit(2) from None
    if only:
        unknown = sorted(set(only) - {h.id for h in hunts})
        if unknown:
            err.print(
                Text(
                    f"error: no hunt {', '.join(unknown)}; known: {', '.join(h.id for h in hunts)}"
                )
            )
            raise typer.Exit(2)
        hunts = [h for h in hunts if h.id in only]
    with case_connection(case) as con:
        runs = run_hunts(con, hunts)
    if not only:  # a partial run must not replace the case's record of every hunt's findings
        save_findings(case, "hunt", [f for r in runs for f in r.findings])
    if as_json:
        _print_json(
            {
                "findings": [f.as_dict() for r in runs for f in r.findings],
                "skipped": {r.hunt.id: r.skipped for r in runs if r.skipped},
                "failed": {r.hunt.id: r.failed for r in runs if r.failed},
                "ran": [r.hunt.id for r in runs if not r.skipped and not r.failed],
            }
        )
    else:
        _print_findings(runs)
    if any(r.failed for r in runs):
        raise typer.Exit(1)


def _print_findings(runs: list[HuntRun]) -> None:
    order = list(Severity)[::-1]
    findings = sorted(
        (f for r in runs for f in r.findings), key=lambda f: (order.index(f.severity), -f.count)
    )
    table = Table(title=f"awsir hunt: {len(findings)} finding(s)", title_justify="left")
    for name in ("severity", "hunt", "subject", "events", "first", "last", "ATT&CK"):
        table.add_column(name, overflow="fold")
    for f in findings:
        table.add_row(
            f.severity, Text(f.title), Text(f.subject or ""), f"{f.count:,}", f.first or "",
            f.last or "", ", ".join(f.attack),
        )  # fmt: skip
    out.print(table)
    for r in runs:
        if r.skipped:
            err.print(Text(f"skipped {r.hunt.id}: {r.skipped}", style="yellow"))
        if r.failed:
            err.print(Text(f"error: hunt {r.hunt.id} failed: {r.failed}", style="red"))


@app.command("export")
def export_command(
    fmt: Annotated[
        str, typer.Argument(metavar="FORMAT", help="csv, jsonl, timesketch, ocsf or athena.")
    ],
    case: CaseOption = DEFAULT_CASE,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (rows); stdout for athena.")
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", help="SQL whose rows to export (default: every event, in order)."),
    ] = None,
    location: Annotated[
        str | None,
        typer.Option("--location", help="athena: where the lake folder is in S3 (s3://b/p/lake)."),
    ] = None,
) -> None:
    """Export a case: rows as CSV, JSON lines or Timesketch JSON lines (streamed), OCSF Parquet
    in Amazon Security Lake's custom-source layout, or Athena / Trino DDL over the lake's
    Parquet files once copied to S3."""
    if fmt not in EXPORT_FORMATS:
        err.print(Text(f"error: FORMAT is one of {', '.join(EXPORT_FORMATS)}"))
        raise typer.Exit(2)
    if fmt == "athena":
        if not location or not location.startswith("s3://"):
            err.print(Text("error: athena needs --location s3://BUCKET/PREFIX/lake"))
            raise typer.Exit(2)
        with case_connection(case) as con:
            sys.stdout.write(athena_ddl(con, location))
        return
    if output is None:
        err.print(Text("error: -o FILE (ocsf: -o FOLDER) is needed for rows"))
        raise typer.Exit(2)
    if fmt == "ocsf":
        with case_connection(case) as con:
            written = export_security_lake(con, output)
        for source, count in written.items():
            err.print(Text(f"{source}: {count:,} OCSF row(s) in {output / 'ext' / source}"))
        return
    with case_connection(case) as con:
        try:
            rows = export_rows(con, fmt, output, query or DEFAULT_QUERY)
        except duckdb.Error as exc:
            err.print(Text(f"error: {str(exc).splitlines()[0]}"))
            raise typer.Exit(2) from None
    err.print(Text(f"wrote {rows:,} row(s) to {output}"))


def main() -> None:
    app()
