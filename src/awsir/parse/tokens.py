"""Reference splitter for delimited AWS log lines: exact, line by line, and slow on purpose.

The fast parsers split whole batches with vectorized engines; this one is the specification they
are tested against, and the exact path for files the fast path cannot account for line by line.
Quoted ("...") and, where the table says so, bracketed ([...]) values are single fields with the
quotes or brackets removed; AWS writes '-' and never an empty field, so runs of the delimiter
are not collapsed.
"""

from __future__ import annotations

import re
from functools import cache

from awsir.parse.spec import Table


@cache
def _pattern(delimiter: str, quote: str | None, brackets: bool) -> re.Pattern[str]:
    parts = []
    if quote:
        q = re.escape(quote)
        parts.append(f"{q}[^{q}]*{q}")
    if brackets:
        parts.append(r"\[[^\]]*\]")
    parts.append(f"[^{re.escape(delimiter)}]+")
    return re.compile("|".join(parts))


def split_line(line: str, table: Table) -> list[str]:
    """The fields of one record line, quotes and brackets removed."""
    if not table.quote and not table.brackets:
        return line.split(table.delimiter)
    tokens = _pattern(table.delimiter, table.quote, table.brackets).findall(line)
    return [_unwrap(t, table) for t in tokens]


def _unwrap(token: str, table: Table) -> str:
    if len(token) >= 2 and (
        (table.quote and token[0] == table.quote == token[-1])
        or (table.brackets and token[0] == "[" and token[-1] == "]")
    ):
        return token[1:-1]
    return token
