"""``awsir timeline`` and ``awsir pivot``: one subject followed across every source of a case.

Both are SQL over the catalog's views. The common columns (``actor``, ``src_ip``, ``dst_ip``,
``resource``) carry what every source shares; what only CloudTrail records (the access key,
the session name of an assumed role) is read from the ``cloudtrail`` view's ``userIdentity``
and matched to events by ``raw_ref``, which names one record of one file.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from awsir.parse.sql import literal
from awsir.store.catalog import views
from awsir.store.layout import EVENTS
from awsir.store.query import rows, seen_by_source

TIMELINE_COLUMNS = ("time", "source", "actor", "src_ip", "action", "outcome", "message", "raw_ref")
_ACCESS_KEY = re.compile(r"^(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}$")


@dataclass
class Subject:
    """Who or what a timeline follows; empty means everything in the window."""

    actor: str | None = None
    access_key: str | None = None
    ip: str | None = None
    resource: str | None = None
    session: str | None = None
    start: str | None = None  # ISO 8601 (UTC unless an offset is given)
    end: str | None = None
    sources: list[str] = field(default_factory=list)


def _cloudtrail_refs(con: duckdb.DuckDBPyConnection, condition: str) -> str:
    """SQL for the raw_refs of CloudTrail records matching ``condition`` (none without the view)."""
    if "cloudtrail" not in views(con):
        return "SELECT NULL::VARCHAR AS raw_ref WHERE false"
    return f"SELECT raw_ref FROM cloudtrail WHERE {condition}"


def timeline_sql(con: duckdb.DuckDBPyConnection, subject: Subject, limit: int) -> str:
    where = []
    if subject.actor:
        where.append(f"contains(actor, {literal(subject.actor)})")
    if subject.ip:
        where.append(f"(src_ip = {literal(subject.ip)} OR dst_ip = {literal(subject.ip)})")
    if subject.resource:
        where.append(f"contains(resource, {literal(subject.resource)})")
    if subject.access_key:
        key = literal(subject.access_key)
        refs = _cloudtrail_refs(con, f"userIdentity->>'$.accessKeyId' = {key}")
        where.append(f"(raw_ref IN ({refs}) OR contains(message, {key}))")
    if subject.session:
        name = literal("/" + subject.session)
        refs = _cloudtrail_refs(
            con,
            f"ends_with(userIdentity->>'$.arn', {name}) OR "
            f"userIdentity->>'$.sessionContext.sourceIdentity' = {literal(subject.session)}",
        )
        where.append(f"(raw_ref IN ({refs}) OR ends_with(actor, {name}))")
    for bound, op in ((subject.start, ">="), (subject.end, "<=")):
        if bound:  # the day partition skips whole folders; time decides
            moment = f"CAST({literal(bound)} AS TIMESTAMPTZ)"
            where.append(f"time {op} {moment} AND day {op} CAST({moment} AS DATE)")
    if subject.sources:
        where.append(f"source IN ({', '.join(literal(s) for s in subject.sources)})")
    condition = " AND ".join(where) or "true"
    columns = ", ".join(TIMELINE_COLUMNS)
    return (
        f"SELECT {columns} FROM {EVENTS} WHERE {condition} "
        f"ORDER BY time NULLS LAST, source, raw_ref LIMIT {int(limit)}"
    )


def timeline(con: duckdb.DuckDBPyConnection, subject: Subject, limit: int = 1000) -> pa.Table:
    return con.sql(timeline_sql(con, subject, limit)).to_arrow_table()


def kind_of(value: str) -> str:
    """What a pivot value is: ip, access_key, arn or text (a resource, a name...)."""
    try:
        ipaddress.ip_address(value)
        return "ip"
    except ValueError:
        pass
    if _ACCESS_KEY.match(value):
        return "access_key"
    return "arn" if value.startswith("arn:") else "text"


def pivot(con: duckdb.DuckDBPyConnection, value: str, top: int = 10) -> dict[str, Any]:
    """Everything related to ``value``: where and when it was seen, what it did or what was done
    to it, from where, and the identities, keys and addresses linked to it."""
    kind = kind_of(value)
    v = literal(value)
    if kind == "ip":
        match = f"(src_ip = {v} OR dst_ip = {v})"
    elif kind == "access_key":
        refs = _cloudtrail_refs(con, f"userIdentity->>'$.accessKeyId' = {v}")
        match = f"(raw_ref IN ({refs}) OR contains(message, {v}))"
    else:
        match = f"(contains(actor, {v}) OR contains(resource, {v}))"
    # one scan of every source; the sections below read the (small) matches
    # (only the columns the sections read: a wide SELECT * costs 4x the scan on Parquet)
    columns = "time, source, action, outcome, actor, src_ip, user_agent, region, resource, raw_ref"
    con.execute(f"CREATE OR REPLACE TEMP TABLE hit AS SELECT {columns} FROM {EVENTS} WHERE {match}")
    found: dict[str, Any] = {"value": value, "kind": kind}
    found["seen"] = rows(con, seen_by_source("hit"))
    found["actions"] = rows(
        con,
        "SELECT source, action, count(*) AS events, "
        "count(*) FILTER (WHERE outcome IN ('failure', 'denied', 'blocked')) AS failed "
        f"FROM hit GROUP BY ALL ORDER BY events DESC, action LIMIT {top}",
    )
    for key, column in (
        ("actors", "actor"), ("source_ips", "src_ip"), ("user_agents", "user_agent"),
        ("regions", "region"), ("resources", "resource"),
    ):  # fmt: skip
        found[key] = rows(
            con,
            f"SELECT {column}, count(*) AS events FROM hit WHERE {column} IS NOT NULL "
            f"GROUP BY ALL ORDER BY events DESC, {column} LIMIT {top}",
        )
    found["linked"] = _linked(con, top)
    return found


def _linked(con: duckdb.DuckDBPyConnection, top: int) -> list[dict[str, Any]]:
    """Identities tied to the matches through CloudTrail: the access keys and sessions they
    used, and who else used those keys or came from the same addresses."""
    if "cloudtrail" not in views(con):
        return []
    return rows(
        con,
        "WITH mine AS (SELECT c.* FROM cloudtrail c JOIN hit USING (raw_ref)), "
        "keys AS (SELECT DISTINCT userIdentity->>'$.accessKeyId' AS k FROM mine "
        "WHERE k IS NOT NULL), "
        "ips AS (SELECT DISTINCT src_ip FROM mine WHERE src_ip IS NOT NULL) "
        "SELECT 'same access key' AS link, userIdentity->>'$.accessKeyId' AS via, actor, "
        "count(*) AS events FROM cloudtrail WHERE userIdentity->>'$.accessKeyId' IN "
        "(SELECT k FROM keys) GROUP BY ALL "
        "UNION ALL "
        "SELECT 'same source IP', src_ip, actor, count(*) FROM cloudtrail "
        "WHERE src_ip IN (SELECT src_ip FROM ips) GROUP BY ALL "
        f"ORDER BY events DESC, link, actor LIMIT {top * 2}",
    )
