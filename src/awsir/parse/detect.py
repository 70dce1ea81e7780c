"""Recognise which table a log file belongs to, from its first lines and its path or S3 key.

Rules come from each table's ``detect`` section. A header rule (a line naming the fields) is the
strongest evidence, then a data-line rule, then the key layout alone; ties are reported as
ambiguous rather than guessed. Detection reads a few lines per file, never the whole file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from awsir.catalog import Catalog
from awsir.parse.spec import Table

HEAD_LINES = 5
"""How many non-empty lines of a file detection looks at."""
HEAD_BYTES = 4096


def head_lines(data: bytes) -> list[str]:
    """The first non-empty lines of a file."""
    text = data[:HEAD_BYTES].decode("utf-8", "replace")
    return [line for line in text.splitlines() if line.strip()][:HEAD_LINES]


def head_of(data: bytes) -> list[str]:
    """What detection reads of a file: its first non-empty lines, then its first 2,000
    characters as one text (JSON documents are often pretty-printed over many lines)."""
    text = data[:HEAD_BYTES].decode("utf-8", "replace")
    if not text.strip():
        return []
    head = [*head_lines(data), text[:2000]]
    if text.lstrip()[:1] in "{[":  # spaced or pretty-printed JSON, as compact JSON
        head.append(re.sub(r'\s+(?=(?:[^"]*"[^"]*")*[^"]*$)', "", text[:2000]))
    return head


@dataclass(frozen=True)
class Candidate:
    source: str
    table: str
    spec: Table
    strength: int  # 3 header, 2 data line, 1 key only


def _strength(table: Table, key: str, head: list[str]) -> int:
    rules = table.detect
    if rules.header and any(re.search(rules.header, line) for line in head):
        return 3
    if rules.line and any(re.search(rules.line, line) for line in head):
        return 2
    if any(re.search(pattern, key) for pattern in rules.key):
        return 1
    return 0


_OWN_ROWS = re.compile(r'^\{"time":.*"source":"[a-z0-9_]+","raw_ref":')


def is_awsir_output(head: list[str]) -> bool:
    return bool(head) and bool(_OWN_ROWS.match(head[0]))


def candidates(catalog: Catalog, key: str, head: list[str]) -> list[Candidate]:
    """Every table whose rules match, strongest first (none for awsir's own output rows,
    which carry AWS field names but are not AWS logs)."""
    if is_awsir_output(head):
        return []
    found = [
        Candidate(source.id, name, table, strength)
        for source in catalog
        if source.parse is not None
        for name, table in source.parse.tables.items()
        if (strength := _strength(table, key, head))
    ]
    return sorted(found, key=lambda c: -c.strength)


def detect(catalog: Catalog, key: str, head: list[str]) -> Candidate | None:
    """The one table this file belongs to, or None when no rule or several equal rules match.

    Among equally strong matches, a table whose rule matches the first line wins (a file mixing
    formats is read as its first line's format; the other lines go to quarantine).
    """
    found = candidates(catalog, key, head)
    if not found:
        return None
    best = [c for c in found if c.strength == found[0].strength]
    if len(best) > 1 and head:
        best = [c for c in best if _strength(c.spec, key, head[:1]) == c.strength] or best
    return best[0] if len(best) == 1 else None
