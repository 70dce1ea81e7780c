"""``key=value`` lines (logfmt, as Go's logrus writes them): EKS authenticator logs.

A value is bare (``method=POST``, ``session=``) or a Go-quoted string (``msg="access granted"``,
``error="... \\"x\\" ..."``). Keys come in no fixed set or order, so each line is tokenized
left to right by one RE2 pass in DuckDB (a quoted value may itself contain ``key=value`` text,
which a per-key search would mistake for a pair); every declared field takes the value of its
key, and the pairs of keys the table does not declare are kept, as written, in ``_extra``.
A line that is not a sequence of pairs is quarantined with its line number.
https://github.com/sirupsen/logrus#formatters (TextFormatter), https://brandur.org/logfmt
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from awsir.parse.delimited import EXTRA, LINE, MAX_LINE, Split
from awsir.parse.quarantine import Quarantined
from awsir.parse.reading import Block
from awsir.parse.spec import Table
from awsir.parse.sql import ident, literal

_KEY = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_VALUE = r'"(?:[^"\\]|\\.)*"|[^\s"]*'
PAIR = f"({_KEY})=({_VALUE})"
LINE_PATTERN = rf"\s*{PAIR}(?:\s+{PAIR})*\s*"


def _unquote(value: str) -> str:
    """SQL: a quoted value without its quotes and escapes; '' (an empty value) is NULL."""
    inner = rf"regexp_replace({value}[2:-2], '\\(.)', '\1', 'g')"
    return f"nullif(CASE WHEN starts_with({value}, '\"') THEN {inner} ELSE {value} END, '')"


def read_logfmt(con: duckdb.DuckDBPyConnection, table: Table, block: Block, file: str) -> Split:
    undecodable: list[Quarantined] = []
    try:
        lines = block.data.decode("utf-8").split("\n")
    except UnicodeDecodeError:  # rare: find the lines at fault, keep the others
        lines = []
        for k, raw in enumerate(block.data.split(b"\n")):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                why = f"not UTF-8 text (byte {exc.start})"
                undecodable.append(Quarantined(file, block.first_line + k, why, raw))
                lines.append("")  # keeps the line numbers; counted apart below
    if lines and lines[-1] == "":
        lines.pop()
    first = block.first_line
    records = pa.table(
        {
            "rec": pa.array(lines, pa.string()),
            "n": pa.array(np.arange(first, first + len(lines), dtype=np.int64)),
        }
    )
    keys = [c for f in table.fields for c in f.columns]
    known = "[" + ", ".join(literal(k) for k in keys) + "]"
    picks = ", ".join(
        f"{_unquote(f'v[list_position(k, {literal(c)})]')} AS {ident(c)}" for c in keys
    )
    sql = (
        "WITH r AS (SELECT n, rtrim(rec, chr(13)) AS rec FROM records), "
        "t AS (SELECT n, rec, trim(rec) = '' AS blank, "
        f"length(rec) <= {MAX_LINE} AND regexp_full_match(rec, {literal(LINE_PATTERN)}) AS ok, "
        f"regexp_extract_all(rec, {literal(PAIR)}, 1) AS k, "
        f"regexp_extract_all(rec, {literal(PAIR)}, 2) AS v FROM r) "
        f"SELECT n AS {LINE}, blank, ok, rec, {picks}, "
        "nullif(array_to_string(list_filter(list_transform(range(1, len(k) + 1), lambda i: "
        f"CASE WHEN NOT list_contains({known}, k[i]) THEN k[i] || '=' || v[i] END), "
        f"lambda x: x IS NOT NULL), ' '), '') AS {EXTRA} FROM t"
    )
    con.register("records", records)
    try:
        result = con.sql(sql).to_arrow_table()
    finally:
        con.unregister("records")
    blank = result.column("blank")
    split = Split(None, undecodable, skipped=(pc.sum(blank).as_py() or 0) - len(undecodable))
    bad = result.filter(pc.and_(pc.invert(blank), pc.invert(result.column("ok"))))
    for n, rec in zip(bad.column(LINE).to_pylist(), bad.column("rec").to_pylist(), strict=True):
        why = "line over 1 MB" if len(rec) > MAX_LINE else "not key=value pairs"
        split.quarantined.append(Quarantined(file, n, why, rec.encode()))
    good = result.filter(pc.and_(pc.invert(blank), result.column("ok")))
    if good.num_rows:
        split.strings = good.drop_columns(["blank", "ok", "rec"])
    return split
