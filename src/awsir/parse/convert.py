"""Typed columns from string fields: one generated SQL SELECT per table, run by DuckDB.

Every field of the definition becomes its column(s) with its type, whether or not this file has
it (older formats lack fields AWS added later), so a table's schema is the same for every file.
A value that is not a null token and does not convert is not silently nulled: the row gets an
``_error`` naming the field and the value, and goes to quarantine. All timestamps are UTC.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from awsir.parse.delimited import ARROW_TYPES, LINE
from awsir.parse.spec import COMMON_TYPES, ROW_COLUMNS, FieldDef, FieldType, Table
from awsir.parse.sql import ident, literal

ERROR = "_error"
PART = "_part"
"""Index of a row's block in a conversion batch (see :mod:`awsir.parse.batch`)."""
ORIGIN = ("_file", "_key_account", "_key_region")
"""Per-row file name, and the account and Region of its AWS key layout (NULL when none)."""


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


def select_sql(
    table: Table, present: list[str], relation: str, native: frozenset[str] = frozenset()
) -> str:
    """SELECT turning ``relation`` (string columns named by AWS field name) into typed columns.

    Three steps, so that each field is cleaned and converted once: ``__v<i>`` is the text with
    null tokens removed, ``__c<i>`` the converted value, and the error check compares the two.
    Fields in ``native`` already hold their final values and are only renamed.
    """
    nulls = ", ".join(literal(n) for n in table.missing) or "NULL"
    cleaned, converted, exprs, errors = [], [], [], []
    for i, field in enumerate(table.fields):
        if field.name in native:  # final already: renamed (ip_port: split already)
            sources = field.columns if field.type == FieldType.ip_port else [field.name]
            for k, (source, column) in enumerate(zip(sources, field.columns, strict=True)):
                cleaned.append(f"{ident(source)} AS __v{i}_{k}")
                exprs.append(f"__v{i}_{k} AS {ident(column)}")
            continue
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


def common_sql(name: str, table: Table, typed: str, omit: frozenset[str] = frozenset()) -> str:
    """SELECT adding the common columns (first) to the typed columns of ``typed`` (less
    ``omit``: columns the caller takes from its input as they are). ``typed`` carries the
    :data:`ORIGIN` columns of each row."""
    keys = typed
    for helper, expr in table.derive.items():  # one layer each: a helper may use earlier ones
        keys = f"SELECT *, ({expr}) AS {ident(helper)} FROM ({keys})"
    shared = [c for c in COMMON_TYPES if c in {x.lower() for f in table.fields for x in f.columns}]
    exprs = []
    for column, sql_type in COMMON_TYPES.items():
        # A field column of the same name is the common column (the spec checks they agree).
        expr = getattr(table.common, column, "NULL")
        if column in shared and expr.strip() == "NULL":
            expr = ident(column)
        exprs.append(f"try_cast(({expr}) AS {sql_type}) AS {column}")
    gone = [*shared, *sorted(omit - set(shared)), *table.derive]
    excluded = ", ".join([*ORIGIN, *(ident(c) for c in gone)])
    return (
        f"SELECT {', '.join(exprs)}, {literal(name)} AS source, "
        f"CAST(_file AS VARCHAR) || ':' || {LINE} AS raw_ref, "
        f"{table.ocsf_class or 'NULL'}::INTEGER AS ocsf_class_uid, "
        f"* EXCLUDE ({excluded}) FROM ({keys})"
    )


def with_origin(strings: pa.Table, file: str, part: int = 0) -> pa.Table:
    """``strings`` with its batch index and the :data:`ORIGIN` columns of ``file``."""
    n = strings.num_rows
    account, region = key_context(file)
    zeros, nulls = pa.array(np.zeros(n, dtype=np.int32)), pa.nulls(n, pa.int32())
    strings = strings.append_column(PART, pa.array(np.full(n, part, dtype=np.int32)))
    for name, value in zip(ORIGIN, (file, account, region), strict=True):
        indices = zeros if value is not None else nulls
        column = pa.DictionaryArray.from_arrays(indices, pa.array([value or ""], pa.string()))
        strings = strings.append_column(name, column)
    return strings


def native_fields(table: Table, schema: pa.Schema, final: frozenset[str]) -> frozenset[str]:
    """Fields whose input column already holds the final values: same type as the output, and
    no null tokens to remove (the reader removed them, or the table has none)."""
    found = set()
    for field in table.fields:
        kind = FieldType(field.type)
        if kind == FieldType.ip_port and field.name in final:
            address, port = (schema.get_field_index(c) for c in field.columns)
            if min(address, port) >= 0 and schema.field(port).type == pa.int64():
                found.add(field.name)
            continue
        at = schema.get_field_index(field.name)
        if at < 0 or kind in (FieldType.ip_port, FieldType.json) or table.trim:
            continue
        arrow = schema.field(at).type
        if kind in (FieldType.string, FieldType.ip):
            ok = arrow == pa.string() and (field.name in final or not table.missing)
        else:
            ok = field.name in final and arrow == ARROW_TYPES.get(kind)
        if ok:
            found.add(field.name)
    return frozenset(found)


def convert(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table: Table,
    strings: pa.Table,
    final: frozenset[str] = frozenset(),
) -> pa.Table:
    """Typed Arrow table (common columns first, ``_error`` last) from blocks' string columns
    (with their :func:`with_origin` columns).

    Columns that are already final are not sent through DuckDB's output: DuckDB reads them
    for the common columns, and the result takes them from the input as they are (zero copy).
    """
    native = native_fields(table, strings.schema, final)
    kept = {
        c: c if f.type == FieldType.ip_port else f.name
        for f in table.fields
        if f.name in native
        for c in f.columns
    }
    con.register("strings", strings)
    try:
        typed = select_sql(table, strings.column_names, "strings", native)
        sql = common_sql(name, table, typed, frozenset(kept))
        result = con.sql(sql).to_arrow_table()
    finally:
        con.unregister("strings")
    if kept:
        result = _splice(result, strings, kept, table)
    return _mark_json(result, table)


def _splice(result: pa.Table, strings: pa.Table, kept: dict[str, str], table: Table) -> pa.Table:
    """``result`` with the kept input columns back in their places (field order)."""
    in_order = result.column(PART).equals(strings.column(PART)) and result.column(LINE).equals(
        strings.column(LINE)
    )
    if not in_order:  # DuckDB keeps the input order; be sure
        result = result.take(pc.sort_indices(result, [(PART, "ascending"), (LINE, "ascending")]))
    columns = dict(zip(result.column_names, result.columns, strict=True))
    order = [c for c in result.column_names if c in COMMON_TYPES or c in ROW_COLUMNS]
    for field in table.fields:
        for column in field.columns:
            if column in kept and column not in columns:
                columns[column] = strings.column(kept[column])
                order.append(column)
            elif column in columns and column not in order:
                order.append(column)
    order += [c for c in result.column_names if c not in order]
    return pa.table([columns[c] for c in order], names=order)


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
