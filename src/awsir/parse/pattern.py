"""Records that do not split on a delimiter and may span lines (Redshift user activity log).

A record starts where ``record_start`` matches at the beginning of a line and runs to the next
start. The block is cut at those starts by one C-level ``re.split``; DuckDB then matches every
record against ``pattern`` and takes each field from its named group, in one query. A record
that does not match is quarantined with its first line number; text before the first record
start (the tail of a record cut off by the file's beginning) is quarantined too.
"""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from awsir.parse.delimited import LINE, Split
from awsir.parse.quarantine import Quarantined
from awsir.parse.reading import Block
from awsir.parse.spec import Table
from awsir.parse.sql import ident, literal


def read_pattern(con: duckdb.DuckDBPyConnection, table: Table, block: Block, file: str) -> Split:
    try:
        text = block.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        why = f"not UTF-8 text (byte {exc.start}); records of this block not read"
        return Split(None, [Quarantined(file, block.first_line, why, block.data)])
    start = re.compile(f"(?m)^(?={table.record_start})")
    pieces = start.split(text)
    split = Split(None)
    lead = pieces.pop(0) if pieces and not re.match(table.record_start or "", pieces[0]) else ""
    if lead.strip():
        split.quarantined.append(
            Quarantined(file, block.first_line, "text before the first record", lead.encode())
        )
    else:
        split.skipped += lead.count("\n")
    if not pieces:
        return split
    records = pa.table({"rec": pa.array(pieces, pa.string())})
    groups = list(re.compile(table.pattern or "").groupindex)
    columns = ", ".join(
        # an optional group that took no part in the match is no value
        f"nullif(m[{literal(c)}], '') AS {ident(f.name)}"
        for f in table.fields
        for c in f.columns
    )
    first = block.first_line + lead.count("\n")
    con.register("records", records)
    try:
        result = con.sql(
            f"WITH r AS (SELECT rec, CAST({first} + coalesce(sum(length(rec) - "
            "length(replace(rec, chr(10), ''))) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND "
            "1 PRECEDING), 0) AS BIGINT) AS n FROM records) "
            f"SELECT n AS {LINE}, rec, regexp_full_match(rtrim(rec, chr(10)), "
            f"{literal(_re2(table.pattern or ''))}) AS ok, "
            f"regexp_extract(rtrim(rec, chr(10)), {literal(_re2(table.pattern or ''))}, "
            f"[{', '.join(literal(g) for g in groups)}]) AS m FROM r"
        ).to_arrow_table()
    finally:
        con.unregister("records")
    good = result.filter(result.column("ok"))
    bad = result.filter(pa.compute.invert(result.column("ok")))
    for n, rec in zip(bad.column(LINE).to_pylist(), bad.column("rec").to_pylist(), strict=True):
        split.quarantined.append(
            Quarantined(file, n, "does not match the record pattern", rec.encode())
        )
    if good.num_rows:
        con.register("matched", good)
        try:
            split.strings = con.sql(f"SELECT {columns}, {LINE} FROM matched").to_arrow_table()
        finally:
            con.unregister("matched")
    return split


def _re2(pattern: str) -> str:
    """RE2 (DuckDB) spells named groups (?P<name>...) like Python. (?s) lets '.' cross the
    newlines inside multi-line records; the anchors make the groups those of the whole-record
    match (unanchored, a lazy group would match as little as it can)."""
    return f"(?s)^(?:{pattern})$"
