"""OCSF views of a case, derived from the common columns (never written per source by hand).

One view per OCSF class a source maps to (``ocsf_api_activity``, ``ocsf_network_activity``,
``ocsf_dns_activity``, ``ocsf_http_activity``, ``ocsf_detection_finding``...): the base event
attributes of OCSF 1.1 (``time`` in epoch milliseconds and ``time_dt``, ``class_uid``,
``category_uid``, ``type_uid``, ``severity_id``, ``status``/``status_id``, ``message``,
``metadata``, ``cloud``) and the objects the common columns fill (``actor.user``,
``src_endpoint``, ``dst_endpoint``, ``api`` for API Activity, ``http_request`` for HTTP
Activity). Everything else stays in the per-source views, under AWS's own names, and
``metadata.uid`` (the ``raw_ref``) joins back to them.
https://schema.ocsf.io/1.1.0/classes/api_activity, https://docs.aws.amazon.com/security-lake/latest/userguide/open-cybersecurity-schema-framework.html
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from awsir.parse.spec import OCSF_CLASSES
from awsir.parse.sql import literal
from awsir.store.layout import EVENTS

OCSF_VERSION = "1.1.0"
CATEGORIES = {2: "Findings", 3: "Identity & Access Management", 4: "Network Activity",
              5: "Discovery", 6: "Application Activity"}  # fmt: skip


COMMON_OCSF = {
    "actor": "actor.user.uid", "src_ip": "src_endpoint.ip", "src_port": "src_endpoint.port",
    "dst_ip": "dst_endpoint.ip", "dst_port": "dst_endpoint.port",
    "account_id": "cloud.account.uid", "region": "cloud.region", "message": "message",
    "user_agent": "http_request.user_agent",
}  # fmt: skip
"""The OCSF attribute each common column fills (where the class has it)."""

_OPERATION = "lower(coalesce(nullif(split_part(action, ':', 2), ''), action))"
ACTIVITIES: dict[int, tuple[str, list[tuple[str, int, str]], tuple[int, str]]] = {
    # class: (what is matched, [(RE2 pattern, activity_id, activity_name)...], default);
    # first match wins. https://schema.ocsf.io/1.1.0/classes/<class>
    6003: (_OPERATION, [  # api_activity: what the API call did to its resource
        (r"^(create|run|put|add|allocate|import|register|copy|issue|request|generate|assume)", 1,
         "Create"),
        (r"^(get|list|describe|lookup|head|search|scan|query|select|batchget|check|view|"
         r"decrypt|download|filter|retrieve)", 2, "Read"),
        (r"^(delete|remove|terminate|deregister|revoke|disassociate|detach|purge|cancel|"
         r"release|drop|deactivate|destroy)", 4, "Delete"),
        (r"^(update|modify|set|attach|associate|enable|disable|start|stop|reboot|change|"
         r"tag|untag|reset|replace|restore|upload|apply|authorize|activate|rotate|"
         r"encrypt|send|invoke|publish)", 3, "Update"),
    ], (99, "Other")),
    4001: ("outcome", [  # network_activity: a flow record reports traffic, or its refusal
        (r"^(denied|blocked|failure)$", 5, "Refuse"),
    ], (6, "Traffic")),
    4002: ("upper(split_part(action, ' ', 1))", [  # http_activity: the request's method
        (r"^CONNECT$", 1, "Connect"), (r"^DELETE$", 2, "Delete"), (r"^GET$", 3, "Get"),
        (r"^HEAD$", 4, "Head"), (r"^OPTIONS$", 5, "Options"), (r"^POST$", 6, "Post"),
        (r"^PUT$", 7, "Put"), (r"^TRACE$", 8, "Trace"), (r"^PATCH$", 9, "Patch"),
    ], (99, "Other")),
    4003: ("action", [], (6, "Traffic")),  # dns_activity: each record holds query and answer
    3002: ("lower(action)", [  # authentication
        (r"disconnect|logoff|logout|sign.?out", 2, "Logoff"),
    ], (1, "Logon")),
    3001: ("lower(action)", [  # account_change
        (r"password", 3, "Password Change"), (r"^(create|add)", 1, "Create"),
        (r"^(drop|delete|remove)", 6, "Delete"), (r"^enable", 2, "Enable"),
        (r"^disable", 5, "Disable"), (r"^attach", 7, "Attach Policy"),
        (r"^detach", 8, "Detach Policy"),
    ], (99, "Other")),
    2004: ("action", [], (1, "Create")),  # detection_finding: a finding as reported
    5001: ("action", [], (1, "Log")),  # device_inventory_info: a configuration item
}  # fmt: skip
"""How each class's ``activity_id`` is read from the common columns (OCSF requires it)."""


def activity_sql(class_uid: int) -> str:
    """SQL: ``activity_id``, ``activity_name`` and ``type_uid`` (class_uid * 100 + activity)."""
    subject, rules, (default_id, default_name) = ACTIVITIES[class_uid]
    ids = " ".join(f"WHEN regexp_matches({subject}, {literal(rx)}) THEN {i}" for rx, i, _ in rules)
    names = " ".join(
        f"WHEN regexp_matches({subject}, {literal(rx)}) THEN {literal(n)}" for rx, _, n in rules
    )
    activity = f"CASE {ids} ELSE {default_id} END" if rules else str(default_id)
    name = f"CASE {names} ELSE {literal(default_name)} END" if rules else literal(default_name)
    return (
        f"{activity} AS activity_id, {name} AS activity_name, "
        f"{class_uid * 100} + {activity} AS type_uid"
    )


def view_name(class_uid: int) -> str:
    return "ocsf_" + re.sub(r"[^a-z0-9]+", "_", OCSF_CLASSES[class_uid].lower()).strip("_")


def class_sql(class_uid: int) -> str:
    """SELECT of the events of one OCSF class, in OCSF's attribute names."""
    category = class_uid // 1000
    extra = ""
    if class_uid in (6003, 3001, 3002):  # who did it
        extra += (
            ", CASE WHEN actor IS NOT NULL THEN {'user': {'uid': actor, 'name': "
            "regexp_extract(actor, '[^/:]+$')}} END AS actor"
        )
    if class_uid == 6003:
        extra += (
            ", {'operation': coalesce(nullif(split_part(action, ':', 2), ''), action), "
            "'service': {'name': CASE WHEN contains(action, ':') "
            "THEN split_part(action, ':', 1) || CASE WHEN source = 'cloudtrail' "
            "THEN '.amazonaws.com' ELSE '' END END}} AS api, "
            "{'user_agent': user_agent} AS http_request"
        )  # CloudTrail's eventSource whole, as Security Lake writes it
    if class_uid == 4002:
        extra += (
            ", {'user_agent': user_agent, 'http_method': CASE WHEN regexp_matches(action, "
            "'^[A-Z]+ ') THEN split_part(action, ' ', 1) END, 'url': {'path': CASE WHEN "
            "regexp_matches(action, '^[A-Z]+ ') THEN split_part(action, ' ', 2) END}} "
            "AS http_request"
        )
    return (
        "SELECT epoch_ms(time) AS time, time AS time_dt, "
        f"{class_uid} AS class_uid, {literal(OCSF_CLASSES[class_uid])} AS class_name, "
        f"{category} AS category_uid, "
        f"{literal(CATEGORIES.get(category, 'Other'))} AS category_name, "
        f"{activity_sql(class_uid)}, 1 AS severity_id, "
        "CASE WHEN outcome = 'success' THEN 'Success' WHEN outcome IS NOT NULL THEN 'Failure' "
        "END AS status, "
        "CASE WHEN outcome = 'success' THEN 1 WHEN outcome IS NOT NULL THEN 2 ELSE 0 END "
        "AS status_id, "
        "CASE WHEN outcome IN ('failure', 'denied', 'blocked') THEN outcome END AS status_detail, "
        "message, "
        f"{{'version': '{OCSF_VERSION}', 'uid': raw_ref, 'product': {{'name': source, "
        "'vendor_name': 'AWS'}, 'log_name': source} AS metadata, "
        "{'provider': 'AWS', 'account': {'uid': account_id}, 'region': region} AS cloud, "
        "CASE WHEN src_ip IS NOT NULL OR src_port IS NOT NULL "
        "THEN {'ip': src_ip, 'port': src_port} END AS src_endpoint, "
        "CASE WHEN dst_ip IS NOT NULL OR dst_port IS NOT NULL "
        f"THEN {{'ip': dst_ip, 'port': dst_port}} END AS dst_endpoint{extra}, "
        "source, account_id, region, day "  # the lake's partition keys, for pruning
        f"FROM {EVENTS} WHERE ocsf_class_uid = {class_uid}"
    )


def export_security_lake(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """OCSF Parquet in Amazon Security Lake's custom-source layout:
    ``ext/<source>/region=<r>/accountId=<id>/eventDay=<yyyymmdd>/*.parquet``; rows per source.
    https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html"""
    written: dict[str, int] = {}
    for class_uid in sorted(OCSF_CLASSES):
        view = view_name(class_uid)
        for (source,) in con.sql(f"SELECT DISTINCT source FROM {view} ORDER BY 1").fetchall():
            rows = (
                f"SELECT * EXCLUDE (source, account_id, region, day), "
                "coalesce(region, 'unknown') AS region, "
                "coalesce(account_id, 'unknown') AS accountId, "
                "coalesce(strftime(day, '%Y%m%d'), 'unknown') AS eventDay "
                f"FROM {view} WHERE source = {literal(source)}"
            )
            target = folder / "ext" / source
            target.mkdir(parents=True, exist_ok=True)
            [(count,)] = con.execute(
                f"COPY ({rows}) TO {literal(str(target))} (FORMAT parquet, COMPRESSION zstd, "
                "PARTITION_BY (region, accountId, eventDay), OVERWRITE_OR_IGNORE true)"
            ).fetchall()  # COPY reports the rows it wrote: the view is read once
            written[source] = written.get(source, 0) + int(count)
    return written


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    names = []
    for class_uid in sorted(OCSF_CLASSES):
        con.execute(f"CREATE VIEW {view_name(class_uid)} AS {class_sql(class_uid)}")
        names.append(view_name(class_uid))
    return names
