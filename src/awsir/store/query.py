"""Questions asked of a case: free SQL over its views, and the case summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from awsir.store.catalog import views
from awsir.store.layout import EVENTS

TOP = 10


class QueryError(ValueError):
    """SQL the case cannot answer, with the views and columns it could have used."""


def run_sql(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        lines = [str(exc).strip(), "", "views of this case (columns):"]
        for name, columns in sorted(views(con).items()):
            shown = ", ".join(columns[:18]) + (", ..." if len(columns) > 18 else "")
            lines.append(f"  {name}: {shown}")
        raise QueryError("\n".join(lines)) from None


@dataclass
class Summary:
    sources: list[dict[str, Any]]
    accounts: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    actors: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    quarantined: list[dict[str, Any]]
    files: int

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    return list(con.sql(sql).to_arrow_table().to_pylist())


def iso(expr: str) -> str:
    """SQL: a time as ISO 8601 UTC text (what reports and JSON show)."""
    return f"strftime({expr}, '%Y-%m-%dT%H:%M:%SZ')"


def seen_by_source(relation: str) -> str:
    """SQL: events, first and last time per source of ``relation``, most events first."""
    return (
        f"SELECT source, count(*) AS events, {iso('min(time)')} AS first, "
        f"{iso('max(time)')} AS last FROM {relation} GROUP BY source ORDER BY events DESC"
    )


def summarize(con: duckdb.DuckDBPyConnection) -> Summary:
    """Per source counts and time range, accounts, Regions, top actors, top errors."""
    return Summary(
        sources=rows(con, seen_by_source(EVENTS)),
        accounts=rows(
            con,
            f"SELECT account_id, count(*) AS events FROM {EVENTS} WHERE account_id IS NOT NULL "
            "GROUP BY ALL ORDER BY events DESC",
        ),
        regions=rows(
            con,
            f"SELECT region, count(*) AS events FROM {EVENTS} WHERE region IS NOT NULL "
            "GROUP BY ALL ORDER BY events DESC",
        ),
        actors=rows(
            con,
            f"SELECT actor, count(*) AS events, count(DISTINCT source) AS sources FROM {EVENTS} "
            f"WHERE actor IS NOT NULL GROUP BY ALL ORDER BY events DESC, actor LIMIT {TOP}",
        ),
        errors=rows(
            con,
            f"SELECT source, action, outcome, count(*) AS events FROM {EVENTS} "
            "WHERE outcome IN ('failure', 'denied', 'blocked') GROUP BY ALL "
            f"ORDER BY events DESC, action LIMIT {TOP}",
        ),
        quarantined=rows(
            con,
            "SELECT reason, count(*) AS records FROM quarantine GROUP BY ALL "
            f"ORDER BY records DESC LIMIT {TOP}",
        ),
        files=con.sql("SELECT count(*) FROM ingested").fetchall()[0][0],
    )
