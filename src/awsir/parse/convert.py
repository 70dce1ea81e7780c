"""Typed columns from string fields: one generated SQL SELECT per table, run by DuckDB.

Every field of the definition becomes its column(s) with its type, whether or not this file has
it (older formats lack fields AWS added later), so a table's schema is the same for every file.
A value that is not a null token and does not convert is not silently nulled: the row gets an
``_error`` naming the field and the value, and goes to quarantine. All timestamps are UTC.
"""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from awsir.parse.delimited import LINE
from awsir.parse.spec import COMMON_TYPES, FieldDef, FieldType, Table
from awsir.parse.sql import ident, literal

ERROR = "_error"


SQL_TYPES = {
    FieldType.string: "VARCHAR",
    FieldType.int: "BIGINT",
    FieldType.double: "DOUBLE",
    FieldType.bool: "BOOLEAN",
    FieldType.timestamp: "TIMESTAMPTZ",
    FieldType.epoch_s: "TIMESTAMPTZ",
    FieldType.epoch_ms: "TIMESTAMPTZ",
    FieldType.ip: "VARCHAR",
    FieldType.json: "JSON",
}


def sql_types(field: FieldDef) -> list[str]:
    """SQL type of each column of ``field``."""
    if field.type == FieldType.ip_port:
        return ["VARCHAR", "BIGINT"]
    return [SQL_TYPES[FieldType(field.type)]]


def _typed(field: FieldDef, v: str) -> str:
    """SQL converting the (null-token-free) string ``v``; NULL when it does not convert."""
    kind = FieldType(field.type)
    if kind == FieldType.timestamp and field.format:
        return f"try_strptime({v}, {literal(field.format)})::TIMESTAMPTZ"
    if kind == FieldType.epoch_s:
        return f"to_timestamp(try_cast({v} AS DOUBLE))"
    if kind == FieldType.epoch_ms:
        return f"to_timestamp(try_cast({v} AS DOUBLE) / 1000)"
    if kind in (FieldType.string, FieldType.ip):
        return v
    return f"try_cast({v} AS {SQL_TYPES[kind]})"


def select_sql(table: Table, present: list[str], relation: str) -> str:
    """SELECT turning ``relation`` (string columns named by AWS field name) into typed columns.

    Three steps, so that each field is cleaned and converted once: ``__v<i>`` is the text with
    null tokens removed, ``__c<i>`` the converted value, and the error check compares the two.
    """
    nulls = ", ".join(literal(n) for n in table.missing) or "NULL"
    cleaned, converted, exprs, errors = [], [], [], []
    for i, field in enumerate(table.fields):
        if field.name not in present:
            typed = zip(field.columns, sql_types(field), strict=True)
            exprs += [f"NULL::{t} AS {ident(c)}" for c, t in typed]
            continue
        text = f"CAST({ident(field.name)} AS VARCHAR)"  # JSON columns compare as their text
        raw = f"trim({text})" if table.trim else text
        v, c = f"__v{i}", f"__c{i}"
        cleaned.append(f"CASE WHEN {raw} IN ({nulls}) THEN NULL ELSE {raw} END AS {v}")
        if field.type == FieldType.ip_port:
            # "1.2.3.4:80", "[2001:db8::1]:80" or "2001:db8::1:80": the port follows the last ':'.
            ip_col, port_col = field.columns
            port = f"string_split({v}, ':')[-1]"
            converted.append(f"try_cast({port} AS BIGINT) AS {c}")
            host = f"left({v}, length({v}) - length({port}) - 1)"
            exprs.append(f"nullif(trim({host}, '[]'), '') AS {ident(ip_col)}")
            exprs.append(f"{c} AS {ident(port_col)}")
            check = f"({c} IS NULL OR strpos({v}, ':') = 0)"
        else:
            converted.append(f"{_typed(field, v)} AS {c}")
            exprs.append(f"{c} AS {ident(field.columns[0])}")
            check = f"{c} IS NULL"
        if field.type not in (FieldType.string, FieldType.ip):
            what = f"{field.name}: not a valid {field.type}: "
            errors.append(f"CASE WHEN {v} IS NOT NULL AND {check} THEN {literal(what)} || {v} END")
    extras = [ident(c) for c in present if c.startswith("_")]
    error = f"nullif(concat_ws('; ', {', '.join(errors)}), '')" if errors else "NULL::VARCHAR"
    columns = ", ".join([*exprs, *extras, f"{error} AS {ERROR}"])
    stage1 = ", ".join([*cleaned, *extras]) or "1 AS __none"
    stage2 = ", ".join(["*", *converted])
    return f"SELECT {columns} FROM (SELECT {stage2} FROM (SELECT {stage1} FROM {relation}))"


_KEY = re.compile(
    r"AWSLogs/(?:aws-account-id=)?(?:o-[a-z0-9]+/)?(\d{12})/"
    r"(?:[^/]+/)*?(?:aws-region=)?([a-z]{2}(?:-gov)?-[a-z]+-\d)/"
)


_PARTITIONED = re.compile(r"/(\d{12})/([a-z]{2}(?:-gov)?-[a-z]+-\d)/")


def key_context(file: str) -> tuple[str | None, str | None]:
    """(account, Region) from an AWS key layout in the file's path, when there is one:
    AWSLogs/ACCOUNT/.../REGION/ layouts, or .../ACCOUNT/REGION/... (S3 date-partitioned
    server access logs)."""
    path = file.replace("\\", "/")
    found = _KEY.search(path) or _PARTITIONED.search(path)
    return (found.group(1), found.group(2)) if found else (None, None)


def common_sql(name: str, table: Table, file: str, typed: str) -> str:
    """SELECT adding the common columns (first) to the typed columns of ``typed``."""
    account, region = key_context(file)
    keys = (
        f"SELECT *, {literal(account) if account else 'NULL'}::VARCHAR AS _key_account, "
        f"{literal(region) if region else 'NULL'}::VARCHAR AS _key_region FROM ({typed})"
    )
    shared = [c for c in COMMON_TYPES if c in {x.lower() for f in table.fields for x in f.columns}]
    exprs = []
    for column, sql_type in COMMON_TYPES.items():
        # A field column of the same name is the common column (the spec checks they agree).
        expr = getattr(table.common, column, "NULL")
        if column in shared and expr.strip() == "NULL":
            expr = ident(column)
        exprs.append(f"try_cast(({expr}) AS {sql_type}) AS {column}")
    excluded = ", ".join(["_key_account", "_key_region", *(ident(c) for c in shared)])
    return (
        f"SELECT {', '.join(exprs)}, {literal(name)} AS source, "
        f"{literal(file + ':')} || {LINE} AS raw_ref, "
        f"{table.ocsf_class or 'NULL'}::INTEGER AS ocsf_class_uid, "
        f"* EXCLUDE ({excluded}) FROM ({keys})"
    )


def convert(
    con: duckdb.DuckDBPyConnection, name: str, table: Table, strings: pa.Table, file: str
) -> pa.Table:
    """Typed Arrow table (common columns first, ``_error`` last) from one block's strings."""
    con.register("strings", strings)
    try:
        typed = select_sql(table, strings.column_names, "strings")
        result = con.sql(common_sql(name, table, file, typed)).to_arrow_table()
    finally:
        con.unregister("strings")
    return _mark_json(result, table)


def _mark_json(result: pa.Table, table: Table) -> pa.Table:
    """JSON fields as Arrow's canonical JSON type, so JSON output nests them and Parquet keeps
    them as JSON (DuckDB exports its JSON type as plain strings)."""
    for f in table.fields:
        if f.type != FieldType.json:
            continue
        at = result.schema.get_field_index(f.columns[0])
        column = result.column(at)
        marked = pa.chunked_array(
            [pa.ExtensionArray.from_storage(pa.json_(), c) for c in column.chunks], pa.json_()
        )
        result = result.set_column(at, pa.field(f.columns[0], pa.json_()), marked)
    return result
