"""Records that could not become rows: kept with where they came from and why.

Nothing is dropped silently: for every file, rows plus quarantined records equal the records
read. The raw bytes are kept so a responder can look at (or re-parse) exactly what AWS wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("line", pa.int64()),  # line number, or record index for JSON documents (1-based)
        ("reason", pa.string()),
        ("raw", pa.binary()),
    ]
)
RAW_LIMIT = 1 << 20


@dataclass(frozen=True)
class Quarantined:
    file: str
    line: int | None
    reason: str
    raw: bytes


def to_table(entries: Sequence[Quarantined]) -> pa.Table:
    return pa.table(
        [
            pa.array([e.file for e in entries], pa.string()),
            pa.array([e.line for e in entries], pa.int64()),
            pa.array([e.reason for e in entries], pa.string()),
            pa.array([e.raw[:RAW_LIMIT] for e in entries], pa.binary()),
        ],
        schema=SCHEMA,
    )
