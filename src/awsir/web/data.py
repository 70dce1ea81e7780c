"""What each dashboard page shows, as plain data: the HTML pages render it and their ``.json``
twins return it as is. Nothing here knows about HTTP.

Sources of truth, all read-only:
- readiness: the scans recorded by ``awsir scan`` in the history folder (latest whole, all of
  them for the trend);
- the catalog of log sources;
- a case: its events (search, timeline), its kept findings (``awsir detect``, ``awsir hunt``)
  and its collected evidence (manifest and collection reports).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from awsir.collect.run import EVIDENCE, verify
from awsir.findings import Severity, finding_refs, load_findings
from awsir.parse.sql import ident
from awsir.readiness.engine import score_of
from awsir.readiness.history import changes, scans
from awsir.store.case import Case
from awsir.store.catalog import open_case
from awsir.store.investigate import Subject, timeline_sql

SEVERITIES = [s.value for s in Severity][::-1]  # critical first
PAGE_SIZE = 100
SEARCH_COLUMNS = (
    "time",
    "source",
    "account_id",
    "region",
    "actor",
    "src_ip",
    "dst_ip",
    "action",
    "outcome",
    "user_agent",
    "message",
    "raw_ref",
)


class DataError(ValueError):
    """A question the data cannot answer as asked (bad SQL, no case); shown to the user."""


@dataclass
class Sources:
    history: Path
    case: Path | None = None


# --- readiness -------------------------------------------------------------------------------


def readiness(src: Sources, filters: dict[str, str]) -> dict[str, Any]:
    """The latest recorded scan, filtered, with the trend and what changed since the one before."""
    unreadable: list[str] = []
    history = scans(src.history, unreadable) if src.history.is_dir() else []
    if not history:
        return {"scan": None, "history": str(src.history), "unreadable": unreadable}
    latest = history[-1]
    verdicts = latest.get("verdicts", [])
    facets = {
        k: sorted({str(v.get(k) or "") for v in verdicts})
        for k in ("account", "region", "severity", "status", "source")
    }
    shown = [
        v
        for v in verdicts
        if all(not filters.get(k) or str(v.get(k) or "") == filters[k] for k in facets)
    ]
    order = {s: k for k, s in enumerate(SEVERITIES)}
    gaps = sorted(
        (v for v in shown if v.get("status") in ("fail", "unknown")),
        key=lambda v: (
            order.get(v.get("severity"), 9),
            v.get("check") or "",
            v.get("region") or "",
            v.get("resource") or "",
        ),
    )
    change = changes(history[-2], latest) if len(history) > 1 else None
    return {
        "scan": {
            k: latest.get(k)
            for k in ("taken", "accounts", "score", "by_source", "by_region", "by_account")
        },
        "history": str(src.history),
        "unreadable": unreadable,
        "filters": filters,
        "facets": facets,
        "heat": heat(verdicts),
        "questions": latest.get("questions", []),
        "gaps": gaps,
        "counted": len(shown),
        "trend": [{"taken": s.get("taken"), "score": s.get("score")} for s in history],
        "changes": None
        if change is None
        else {
            "since": change.previous.get("taken"),
            "new_gaps": change.new_gaps,
            "fixed": change.fixed,
            "gone": change.gone,
        },
    }


def heat(verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    """Region x source scores (None where no check applied)."""
    regions = sorted({v.get("region") or "" for v in verdicts})
    sources = sorted({v.get("source") or "" for v in verdicts})
    cells: dict[str, dict[str, int | None]] = {}
    for source in sources:
        row = cells.setdefault(source, {})
        for region in regions:
            mine = [v for v in verdicts if v.get("source") == source and v.get("region") == region]
            row[region] = (
                score_of((v.get("status"), v.get("severity") or "") for v in mine) if mine else None
            )
    return {"regions": regions, "sources": sources, "cells": cells}


# --- sources ---------------------------------------------------------------------------------


def sources(src: Sources, query: str) -> dict[str, Any]:
    """The catalog, filtered by words of ``query``, with what the latest scan saw of each."""
    from awsir.catalog import LISTING, as_text, load_catalog, title_at

    history = scans(src.history) if src.history.is_dir() else []
    seen: dict[str, dict[str, int]] = {}
    for v in history[-1].get("verdicts", []) if history else []:
        counts = seen.setdefault(v.get("source") or "", {})
        counts[v["status"]] = counts.get(v["status"], 0) + 1
    words = [w.lower() for w in query.split()]
    found = []
    for source in load_catalog():
        card = source.to_dict()
        text = json.dumps(card).lower()
        if words and not all(w in text for w in words):
            continue
        found.append(
            {
                "id": source.id,
                "title": source.card.title,
                "listing": {title_at(p): as_text(source.card_value(p)) for p in LISTING[1:]},
                "scan": seen.get(source.id),
                "card": card,
            }
        )
    return {"query": query, "sources": found, "scanned": bool(history)}


# --- the case --------------------------------------------------------------------------------


def _connect(src: Sources) -> duckdb.DuckDBPyConnection:
    """The case, read-only, and unable to touch any file outside it: the SQL box takes any
    SELECT, and a served dashboard may be reached by others than the one who started it."""
    if src.case is None:
        raise DataError("no case: start the dashboard with --case DIR")
    case = Case(src.case)
    try:
        con = open_case(case)
    except Exception as exc:  # noqa: BLE001 - CaseError, or a damaged catalog: one line
        raise DataError(str(exc).splitlines()[0]) from None
    root = str(case.root.resolve())
    allowed = ", ".join(f"'{d}'" for d in (f"{root}/", "lake/", "quarantine/"))
    con.execute(f"SET allowed_directories = [{allowed}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[list[Any]]]:
    result = con.sql(sql)
    if result is None:
        return [], []
    table = result.to_arrow_table()
    columns = table.column_names
    return columns, [[_plain(v) for v in row.values()] for row in table.to_pylist()]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str | bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def _select_only(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise DataError(str(exc).splitlines()[0]) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise DataError("the SQL box runs one SELECT (or WITH ... SELECT) statement")
    return sql.strip().rstrip(";")


def search_csv(src: Sources, params: dict[str, str]) -> Iterator[bytes]:
    """Every row of a search as CSV, in batches of 10,000 (an export of any size in bounded
    memory, no loop over rows): DuckDB renders each cell as text, Arrow writes the CSV. A cell a
    spreadsheet would run as a formula (``= + - @``, tab or CR first) gets a leading quote: logs
    must not run there. The connection closes when the rows are exhausted."""
    con = _connect(src)
    try:
        base = _search_sql(con, params)
        cells = []
        for name, kind, *_ in con.sql(f"DESCRIBE {base}").fetchall():
            column = ident(name)
            if kind == "VARCHAR":  # text from logs; numbers stay numbers (-1 is not a formula)
                cells.append(
                    f"CASE WHEN regexp_matches({column}, {_quote(FORMULA)}) "
                    f"THEN {_quote(chr(39))} || {column} ELSE {column} END AS {column}"
                )
            else:
                cells.append(f"CAST({column} AS VARCHAR) AS {column}")
        text = f"SELECT {', '.join(cells)} FROM ({base}) AS q"
        reader = con.sql(text).to_arrow_reader(10_000)
    except (duckdb.Error, DataError) as exc:
        con.close()
        raise DataError(str(exc).strip().splitlines()[0]) from None

    def chunks() -> Iterator[bytes]:
        try:
            header = True
            for batch in reader:
                buffer = io.BytesIO()
                options = pacsv.WriteOptions(include_header=header)
                pacsv.write_csv(pa.Table.from_batches([batch]), buffer, options)
                header = False
                yield buffer.getvalue()
            if header:  # no rows: the header alone
                yield (",".join(f'"{n}"' for n in reader.schema.names) + "\n").encode()
        finally:
            con.close()

    return chunks()


FORMULA = "^[=+@\t\r-]"
"""Cells a spreadsheet would evaluate (RE2)."""


def _search_sql(con: duckdb.DuckDBPyConnection, params: dict[str, str]) -> str:
    if params.get("sql", "").strip():
        return _select_only(con, params["sql"])
    where = []
    for key in ("source", "outcome"):
        if params.get(key):
            where.append(f"{key} = {_quote(params[key])}")
    for key in ("actor", "action", "src_ip", "message"):
        if params.get(key):
            where.append(f"contains({key}, {_quote(params[key])})")
    for key, op in (("from", ">="), ("to", "<=")):
        if params.get(key):
            where.append(f"time {op} CAST({_quote(params[key])} AS TIMESTAMPTZ)")
    return (
        f"SELECT {', '.join(SEARCH_COLUMNS)} FROM events"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY time NULLS LAST, raw_ref"
    )


def search(src: Sources, params: dict[str, str], limit: int = PAGE_SIZE) -> dict[str, Any]:
    """A page of the rows of a SELECT typed in the SQL box, or of ``events`` matching the
    filter form."""
    try:
        page = max(int(params.get("page") or 1), 1)
    except ValueError:
        raise DataError(f"page must be a number, not {params['page']!r}") from None
    con = _connect(src)
    try:
        base = _search_sql(con, params)
        sql = f"SELECT * FROM ({base}) AS q LIMIT {limit + 1} OFFSET {(page - 1) * limit}"
        columns, rows = _rows(con, sql)
        sources_ = [
            s for (s,) in con.sql("SELECT DISTINCT source FROM events ORDER BY 1").fetchall()
        ]
    except duckdb.Error as exc:
        raise DataError(str(exc).strip().splitlines()[0]) from None
    finally:
        con.close()
    return {
        "params": params,
        "columns": columns,
        "rows": rows[:limit],
        "page": page,
        "more": len(rows) > limit,
        "sources": sources_,
    }


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def timeline(src: Sources, params: dict[str, str], limit: int = 2000) -> dict[str, Any]:
    """A subject's events across every source, in order, with activity per time bucket."""
    subject = Subject(
        actor=params.get("actor") or None,
        access_key=params.get("access_key") or None,
        ip=params.get("ip") or None,
        resource=params.get("resource") or None,
        start=params.get("from") or None,
        end=params.get("to") or None,
    )
    finding = params.get("finding") or ""
    if finding and src.case is not None:
        subject.refs = finding_refs(src.case, finding) or []
    asked = any([subject.actor, subject.access_key, subject.ip, subject.resource, finding])
    if not asked:
        return {"params": params, "events": [], "histogram": None, "asked": False}
    con = _connect(src)
    try:
        columns, rows = _rows(con, timeline_sql(con, subject, limit))
    except duckdb.Error as exc:
        raise DataError(str(exc).strip().splitlines()[0]) from None
    finally:
        con.close()
    events = [dict(zip(columns, r, strict=True)) for r in rows]
    return {
        "params": params,
        "events": events,
        "histogram": histogram(events),
        "asked": True,
        "limited": len(events) == limit,
    }


def histogram(events: list[dict[str, Any]], buckets: int = 48) -> dict[str, Any] | None:
    """Events per time bucket and source (for the stacked bars of the timeline)."""
    from datetime import datetime

    times = [(datetime.fromisoformat(e["time"]), e["source"]) for e in events if e.get("time")]
    if not times:
        return None
    start, end = min(t for t, _ in times), max(t for t, _ in times)
    span = max((end - start).total_seconds(), 1.0)
    counts: list[dict[str, int]] = [{} for _ in range(buckets)]
    for when, source in times:
        k = min(int((when - start).total_seconds() / span * buckets), buckets - 1)
        counts[k][source] = counts[k].get(source, 0) + 1
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "buckets": counts,
        "sources": sorted({s for _, s in times}),
    }


def detections(src: Sources, severity: str = "") -> dict[str, Any]:
    if src.case is None:
        raise DataError("no case: start the dashboard with --case DIR")
    order = {s: k for k, s in enumerate(SEVERITIES)}
    found = [f for f in load_findings(src.case) if not severity or f["severity"] == severity]
    found.sort(key=lambda f: (order.get(f["severity"], 9), -f["count"], f["id"]))
    return {"findings": found, "severity": severity, "severities": SEVERITIES}


def collection(src: Sources, check: bool = False) -> dict[str, Any]:
    """What was collected into the case (per source), what could not be, and, on request, the
    re-hash of every item against the manifest."""
    if src.case is None:
        raise DataError("no case: start the dashboard with --case DIR")
    reports = []
    for path in sorted((src.case / EVIDENCE / "reports").glob("collect-*.json")):
        try:
            reports.append(json.loads(path.read_text(encoding="utf-8")) | {"file": path.name})
        except (OSError, json.JSONDecodeError) as exc:
            reports.append({"file": path.name, "problems": [f"unreadable: {exc}"]})
    verified = None
    if check:
        result = verify(src.case)
        verified = {"checked": result.checked, "changed": result.changed, "missing": result.missing}
    return {"reports": reports, "verified": verified}
