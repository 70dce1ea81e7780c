"""Every table fills the common columns sensibly on every sample row (cross-source timelines)."""

from __future__ import annotations

import io
import ipaddress
import json

import pytest

from awsir.catalog import load_catalog
from awsir.parse.engine import parse_files
from awsir.parse.golden import samples
from awsir.parse.output import StdoutSink
from awsir.parse.spec import COMMON_TYPES, Outcome

CATALOG = load_catalog()
TABLES = {name: table for s in CATALOG if s.parse for name, table in s.parse.tables.items()}
SAMPLES = list(samples(CATALOG))


@pytest.mark.parametrize("name", sorted(TABLES))
def test_table_maps_the_common_columns(name):
    assert TABLES[name].common is not None, f"{name}: no common: mapping in parse.yaml"


def _rows(table, path):
    buffer = io.StringIO()
    sink = StdoutSink(buffer)
    list(parse_files([path], CATALOG, sink, format=table))
    sink.close()
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(("table", "path"), SAMPLES, ids=[f"{t}/{p.name}" for t, p in SAMPLES])
def test_sample_rows_have_sensible_common_columns(table, path):
    if TABLES[table].common is None:
        pytest.skip("no common mapping yet")
    rows = _rows(table, path)
    assert rows
    for row in rows:
        where = f"{row['raw_ref']}"
        assert list(row)[: len(COMMON_TYPES)] == list(COMMON_TYPES), where
        assert row["time"] and row["time"].endswith("Z"), f"{where}: no time"
        assert row["message"] and "\n" not in row["message"], f"{where}: no one-line message"
        assert row["outcome"] in {None, *(o.value for o in Outcome)}, f"{where}: {row['outcome']}"
        for column in ("src_ip", "dst_ip"):
            assert row[column] is None or _is_ip(row[column]), f"{where}: {column}={row[column]}"
        for column in ("src_port", "dst_port"):
            assert row[column] is None or 0 <= row[column] <= 65535, f"{where}: {column}"
        assert row["account_id"] is None or (len(row["account_id"]) == 12), where
        assert row["source"] == table and row["ocsf_class_uid"] == TABLES[table].ocsf_class
