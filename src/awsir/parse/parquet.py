"""Logs AWS delivers as Apache Parquet (VPC flow logs with FileFormat=parquet).

Parquet columns are named like awsir's derived column names (``account_id`` for
``account-id``), so a file belongs to the table whose columns cover all of its columns. The file
is read one row group at a time (bounded memory) and each batch, cast to text, goes through the
same conversion as text formats; ``line`` in ``raw_ref`` is the row number in the file.
https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from awsir.catalog import Catalog
from awsir.parse.delimited import LINE, Split
from awsir.parse.spec import Table

MAGIC = b"PAR1"


def find_table(catalog: Catalog, columns: list[str]) -> tuple[str, Table] | None:
    """The table whose column names include every column of the file (the most specific)."""
    wanted = {c.lower() for c in columns}
    fits = []
    for source in catalog:
        for name, table in (source.parse.tables if source.parse else {}).items():
            known = {c.lower() for f in table.fields for c in f.columns}
            if wanted <= known:
                fits.append((len(known), name, table))
    return (min(fits)[1], min(fits)[2]) if fits else None


def read_parquet(path: Path, table: Table) -> Iterator[Split]:
    """String fields (named by AWS field name) of each row group, numbered from 1."""
    by_column = {c.lower(): f.name for f in table.fields for c in f.columns}
    reader = pq.ParquetFile(path)
    first = 1
    for batch in reader.iter_batches():
        names = [by_column[c.lower()] for c in batch.schema.names]
        text = [
            column if pa.types.is_string(column.type) else column.cast(pa.string())
            for column in batch.columns
        ]
        numbers = pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64))
        first += batch.num_rows
        yield Split(pa.table([*text, numbers], names=[*names, LINE]))
