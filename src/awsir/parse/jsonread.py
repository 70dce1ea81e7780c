"""JSON AWS logs: one object per line (WAF, Resolver, GuardDuty exports...) or one document per
file holding a list of records (CloudTrail ``{"Records": [...]}``, Config, ``GetFindings``).

Lines are cut by Arrow's CSV reader into one string column (a raw 0x1F byte cannot occur in valid
JSON, so it serves as a delimiter that never splits a line); DuckDB then checks and parses every
record once (``from_json``) and extracts the declared top-level keys as strings for
:mod:`awsir.parse.convert`. Invalid JSON, non-object records and undecodable bytes go to
quarantine with their line number (record index for documents).
"""

from __future__ import annotations

import json
import re

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from awsir.parse.delimited import ARROW_BLOCK, LINE, MAX_LINE, Split
from awsir.parse.quarantine import Quarantined
from awsir.parse.reading import Block
from awsir.parse.spec import Envelope, Table
from awsir.parse.sql import ident, literal

_UNIT_SEPARATOR = "\x1f"
RECORD = "_record"
"""Column with a JSON record's text, kept until conversion so quarantine keeps raw bytes."""


def _record_sql(
    table: Table, record: str, number: str, relation: str, keys: dict[str, str] | None = None
) -> str:
    """One parse per record: ``try(from_json(...))`` straight into the declared fields (scalars
    as text, objects as JSON). NULL means invalid JSON; a struct with none of the declared keys
    means an array, a scalar or an object of another format. ``keys``: the key of each field in
    a customer-defined format (:mod:`awsir.parse.template`); fields it lacks are NULL."""
    read = {f.name: f.name for f in table.fields} if keys is None else keys
    schema = json.dumps(
        {
            read[f.name]: "JSON" if f.type == "json" else "VARCHAR"
            for f in table.fields
            if f.name in read
        }
    )
    picks = ", ".join(
        f"r.{ident(read[f.name])} AS {ident(f.name)}"
        if f.name in read
        else f"NULL::{'JSON' if f.type == 'json' else 'VARCHAR'} AS {ident(f.name)}"
        for f in table.fields
    )
    present = " OR ".join(f"r.{ident(k)} IS NOT NULL" for k in read.values())
    # Internal names start with "__": AWS records have keys such as "kind" (EKS audit events).
    return (
        f"WITH p AS (SELECT {number} AS __n, {record} AS __rec, "
        f"try(from_json({record}, {literal(schema)})) AS r FROM {relation}) "
        "SELECT CASE WHEN r IS NULL THEN 'invalid JSON' "
        f"WHEN NOT ({present}) THEN CASE WHEN ltrim(__rec)[1] = '{{' "
        "THEN 'none of the fields of this format' ELSE 'not a JSON object' END END AS __why, "
        f"__n, __rec AS {RECORD}, {picks} FROM p"  # DuckDB keeps the input order
    )


def _split_result(result: pa.Table, file: str) -> Split:
    failed = pc.is_valid(result.column("__why"))
    if not pc.any(failed).as_py():  # the usual case: no copy of the rows
        good = result.drop_columns(["__why"])
        return Split(good.rename_columns([LINE, *good.column_names[1:]]) if good.num_rows else None)
    bad = result.filter(failed)
    good = result.filter(pc.invert(failed)).drop_columns(["__why"])
    split = Split(good.rename_columns([LINE, *good.column_names[1:]]) if good.num_rows else None)
    for n, why, rec in zip(
        bad.column("__n").to_pylist(),
        bad.column("__why").to_pylist(),
        bad.column(RECORD).to_pylist(),
        strict=True,
    ):
        split.quarantined.append(Quarantined(file, n, why, (rec or "").encode()))
    return split


def json_lines(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    block: Block,
    file: str,
    keys: dict[str, str] | None = None,
) -> Split:
    """Split one block of JSON lines into string fields and quarantine entries.

    A file that is one pretty-printed object, or a JSON array of records, is read as such when
    none of its lines is a record on its own.
    """
    split = _json_lines(con, table, block, file, keys)
    if split.strings is None and split.quarantined and block.first_line == 1:
        whole = _whole_document(con, table, block.data, file, keys)
        if whole is not None:
            return whole
    return split


def _whole_document(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    data: bytes,
    file: str,
    keys: dict[str, str] | None = None,
) -> Split | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    valid, kind = _kind(con, text, "$")
    if not valid or kind not in ("OBJECT", "ARRAY"):
        return None
    records = _records_at(con, _documents([text]), "$" if kind == "OBJECT" else "$[*]")
    return _run(con, table, records, file, skipped=0, keys=keys)


def _documents(texts: list[str]) -> pa.Table:
    """JSON texts numbered from 1 (lines of a file, or one whole document)."""
    return pa.table(
        {"line": pa.array(texts, pa.string()), "n": pa.array(np.arange(1, len(texts) + 1))}
    )


def _kind(con: duckdb.DuckDBPyConnection, text: str, path: str) -> tuple[bool, str | None]:
    """Is ``text`` valid JSON, and what JSON type is at ``path`` in it?"""
    con.register("doc", _documents([text]))
    try:
        [(valid, kind)] = con.sql(
            "SELECT json_valid(line), "
            f"CASE WHEN json_valid(line) THEN json_type(line -> {literal(path)}) END FROM doc"
        ).fetchall()
    finally:
        con.unregister("doc")
    return bool(valid), kind


def _records_at(
    con: duckdb.DuckDBPyConnection, documents: pa.Table, path: str, string: bool = False
) -> pa.Table:
    """The record(s) at ``path`` in each valid document, as JSON text with a record number:
    the line number, or the position in the list for a single document."""
    pick = f"{'json_extract_string' if string else 'json_extract'}(line, {literal(path)})"
    value = f"unnest({pick})" if "[*]" in path else pick
    number = "row_number() OVER ()" if documents.num_rows == 1 else "n"
    con.register("documents", documents)
    try:
        return con.sql(
            f"SELECT CAST(rec AS VARCHAR) AS line, CAST({number} AS BIGINT) AS n FROM ("
            f"SELECT {value} AS rec, n FROM documents WHERE json_valid(line)) "
            "WHERE rec IS NOT NULL"
        ).to_arrow_table()
    finally:
        con.unregister("documents")


def _json_lines(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    block: Block,
    file: str,
    keys: dict[str, str] | None = None,
) -> Split:
    body = block.data
    ends = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 10)
    lengths = np.diff(ends, prepend=-1)
    try:
        body.decode("utf-8")
        clean = not (lengths.size and (lengths.max() > MAX_LINE or lengths.min() <= 1))
    except UnicodeDecodeError:
        clean = False
    if clean and b"\r\n\r\n" not in body:
        lines = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=["line"], block_size=ARROW_BLOCK),
            parse_options=pacsv.ParseOptions(
                delimiter=_UNIT_SEPARATOR, quote_char=False, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={"line": pa.string()}, strings_can_be_null=False
            ),
        )
        first = block.first_line
        lines = lines.append_column("n", pa.array(np.arange(first, first + lines.num_rows)))
        return _run(con, table, lines, file, skipped=0, keys=keys)
    texts, numbers, split = [], [], Split(None)
    pieces = body.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    for offset, raw in enumerate(pieces):
        number, raw = block.first_line + offset, raw.rstrip(b"\r")
        if not raw.strip():
            split.skipped += 1
        elif len(raw) > MAX_LINE:
            split.quarantined.append(Quarantined(file, number, "line over 1 MB", raw))
        else:
            try:
                texts.append(raw.decode("utf-8"))
                numbers.append(number)
            except UnicodeDecodeError as exc:
                why = f"not UTF-8 text (byte {exc.start})"
                split.quarantined.append(Quarantined(file, number, why, raw))
    if texts:
        lines = pa.table({"line": pa.array(texts, pa.string()), "n": pa.array(numbers, pa.int64())})
        parsed = _run(con, table, lines, file, skipped=split.skipped, keys=keys)
        parsed.quarantined = split.quarantined + parsed.quarantined
        return parsed
    return split


def _run(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    lines: pa.Table,
    file: str,
    skipped: int,
    keys: dict[str, str] | None = None,
) -> Split:
    # Small batches let DuckDB spread the records over its threads.
    batches = lines.to_batches(max_chunksize=2048)
    con.register("lines", pa.Table.from_batches(batches, schema=lines.schema))
    try:
        result = con.sql(_record_sql(table, "line", "n", "lines", keys)).to_arrow_table()
    finally:
        con.unregister("lines")
    split = _split_result(result, file)
    split.skipped = skipped
    return split


def json_document(con: duckdb.DuckDBPyConnection, table: Table, data: bytes, file: str) -> Split:
    """Split a document holding a list of records under ``table.records``.

    Fast path: the document is parsed once, straight into the declared fields
    (``from_json(doc, {"Records": [{...}]})`` then unnest), as PERFORMANCE_NOTES measured
    fastest for CloudTrail. Anything unusual (invalid JSON, no list of records) takes the exact
    path below, which names the problem.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Split(None, [Quarantined(file, None, f"not UTF-8 text (byte {exc.start})", data)])
    fast = _document_fast(con, table, text, file)
    return fast if fast is not None else _document_exact(con, table, data, text, file)


def _document_fast(
    con: duckdb.DuckDBPyConnection, table: Table, text: str, file: str
) -> Split | None:
    key = ident(table.records or "")
    record = {f.name: "JSON" if f.type == "json" else "VARCHAR" for f in table.fields}
    schema = literal(json.dumps({table.records: [record]}))
    names = ", ".join(f"r.{ident(f.name)} AS {ident(f.name)}" for f in table.fields)
    con.register("docs", _documents([text]))
    try:  # one document in, its records out in their order: numbered here, not in SQL
        result = con.sql(
            f"WITH d AS (SELECT from_json(line, {schema}) AS j FROM docs) "
            f"SELECT {names} FROM (SELECT unnest(j.{key}) AS r FROM d)"
        ).to_arrow_table()
    except duckdb.Error:
        return None
    finally:
        con.unregister("docs")
    if result.num_rows == 0:
        return None  # no records: let the exact path say why (or confirm an empty list)
    numbers = pa.array(np.arange(1, result.num_rows + 1, dtype=np.int64))
    result = result.add_column(0, LINE, numbers)
    # A record with none of the declared keys (not an object, or another format's): rare.
    objects = pc.is_valid(result.column(1))
    for column in result.columns[2:]:
        objects = pc.or_(objects, pc.is_valid(column))
    split = Split(
        result.filter(objects) if not pc.all(objects).as_py() else result,
        raw_of=lambda n: _element(con, text, key, n),
    )
    empty = result.filter(pc.invert(objects)).column(LINE).to_pylist()
    for n in empty:  # not objects, or objects with none of the declared keys: rare
        raw = _element(con, text, key, n)
        split.quarantined.append(Quarantined(file, n, "not a record of this format", raw))
    return split


def _element(con: duckdb.DuckDBPyConnection, text: str, key: str, n: int) -> bytes:
    con.register("docs", _documents([text]))
    try:
        [(raw,)] = con.sql(
            f"SELECT CAST(line -> '$.{key}[{n - 1}]' AS VARCHAR) FROM docs"
        ).fetchall()
    finally:
        con.unregister("docs")
    return (raw or "").encode()


def _document_exact(
    con: duckdb.DuckDBPyConnection, table: Table, data: bytes, text: str, file: str
) -> Split:
    key = "$." + ident(table.records or "")
    valid, kind = _kind(con, text, key)
    if not valid:
        return Split(None, [Quarantined(file, None, "invalid JSON document", data)])
    if kind != "ARRAY":
        why = f"no {table.records!r} list in the document"
        return Split(None, [Quarantined(file, None, why, data)])
    return _run(con, table, _records_at(con, _documents([text]), key + "[*]"), file, skipped=0)


def _run_records(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    envelope: Envelope,
    records: pa.Table,
    file: str,
    skipped: int,
) -> Split:
    if not envelope.cells:
        return _run(con, table, records, file, skipped=skipped)
    merged = _merge_cells(con, table, records)
    ok = merged.column("ok")
    split = _run(con, table, merged.filter(ok).drop_columns(["ok"]), file, skipped=skipped)
    bad = merged.filter(pc.invert(ok))
    for n, line in zip(bad.column("n").to_pylist(), bad.column("line").to_pylist(), strict=True):
        why = "not a query result row (a list of one-key objects)"
        split.quarantined.append(Quarantined(file, n, why, (line or "").encode()))
    return split


def _merge_cells(con: duckdb.DuckDBPyConnection, table: Table, rows: pa.Table) -> pa.Table:
    """Rows written as lists of one-key objects (``[{"eventName": "X"}, {"userIdentity.arn":
    "Y"}]``, CloudTrail Lake query results) as one object each: ``{"eventName": "X",
    "userIdentity": {"arn": "Y"}}``. Keys are matched to the table's fields whatever their case
    (Lake's schema is written in lower case); a dotted key fills its field's object (the rest of
    the path stays one key); string values that hold JSON objects or arrays are parsed. A row
    that is not such a list keeps its text, with ``ok`` false."""
    names = " ".join(f"WHEN {literal(f.name.lower())} THEN {literal(f.name)}" for f in table.fields)
    con.register("cell_rows", rows)
    try:
        merged = con.sql(
            "WITH r AS (SELECT n, line, json_type(line) = 'ARRAY' "
            "AND json_array_length(line) = len(list_filter(CAST(json_extract(line, '$[*]') AS "
            "JSON[]), lambda c: json_type(c) = 'OBJECT' AND len(json_keys(c)) = 1)) AS ok "
            "FROM cell_rows), "
            "c AS (SELECT n, unnest(CAST(json_extract(line, '$[*]') AS JSON[])) AS cell "
            "FROM r WHERE ok), "
            "kv AS (SELECT n, json_keys(cell)[1] AS k, json_extract(cell, '$.*')[1] AS v FROM c), "
            "p AS (SELECT n, split_part(k, '.', 1) AS h, "
            "CASE WHEN contains(k, '.') THEN substr(k, strpos(k, '.') + 1) END AS rest, "
            "CASE WHEN json_type(v) = 'VARCHAR' AND regexp_matches(v->>'$', '^\\s*[\\[{]') "
            "AND json_valid(v->>'$') THEN json(v->>'$') ELSE v END AS v FROM kv), "
            f"f AS (SELECT n, CASE lower(h) {names} ELSE h END AS field, "
            "CASE WHEN count(*) FILTER (WHERE rest IS NULL) > 0 "
            "THEN CAST(any_value(v) FILTER (WHERE rest IS NULL) AS VARCHAR) "
            "ELSE '{' || string_agg(to_json(rest) || ':' || CAST(v AS VARCHAR), ',') || '}' END "
            "AS value FROM p GROUP BY ALL), "
            "o AS (SELECT n, '{' || string_agg(to_json(field) || ':' || value, ',') || '}' "
            "AS line FROM f GROUP BY n) "
            "SELECT coalesce(o.line, r.line) AS line, r.n, coalesce(r.ok, false) AS ok "
            "FROM r LEFT JOIN o USING (n) ORDER BY r.n"
        ).to_arrow_table()
    finally:
        con.unregister("cell_rows")
    return merged


_PASCAL_KEY = re.compile(r'(?<!\\)"([A-Z])([A-Za-z0-9]*)"(?=\s*:)')


def camel_keys(text: str) -> str:
    """JSON text with the first letter of each identifier-like key lowered: ``"AccountId":`` ->
    ``"accountId":``. Keys that are data, such as resource types (``"AWS::S3::Bucket"``), are
    left alone. botocore names the API's camelCase members in PascalCase; for GuardDuty only a
    few nested members differ by more than the first letter (``ProductCode.Code`` is
    ``productCodeId``; KubernetesApiCallAction ``SourceIps`` is ``sourceIPs``)."""
    return _PASCAL_KEY.sub(lambda m: f'"{m.group(1).lower()}{m.group(2)}"', text)


def enveloped(
    con: duckdb.DuckDBPyConnection, table: Table, envelope: Envelope, data: bytes, file: str
) -> Split:
    """Records inside wrappers: one wrapper per line, or one whole-file wrapper document."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Split(None, [Quarantined(file, None, f"not UTF-8 text (byte {exc.start})", data)])
    if envelope.pascal_case:
        text = camel_keys(text)
    lines = text.splitlines()
    wrappers = [line for line in lines if line.strip()]
    if wrappers:
        documents = _documents(lines)
        con.register("wrappers", documents)
        try:
            [(valid,)] = con.sql("SELECT count(*) FROM wrappers WHERE json_valid(line)").fetchall()
        finally:
            con.unregister("wrappers")
        if valid == len(wrappers):  # one wrapper per line
            records = _records_at(con, documents, envelope.path, envelope.string)
            return _run_records(con, table, envelope, records, file, len(lines) - len(wrappers))
    if _kind(con, text, "$")[0]:  # one wrapper document
        records = _records_at(con, _documents([text]), envelope.path, envelope.string)
        return _run_records(con, table, envelope, records, file, 0)
    why = f"not JSON {envelope.name} wrappers (one per line or one document)"
    return Split(None, [Quarantined(file, None, why, data)])
