"""Every format definition (parse.yaml) agrees with its samples, written from the AWS docs.

One suite over every table in the registry: the samples must split into the declared fields,
name only known fields in their headers or JSON keys, and be recognised as their own table (and
no other) by the detection rules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from awsir.catalog import load_catalog
from awsir.parse.detect import candidates, detect, head_of
from awsir.parse.spec import Layout, Table
from awsir.parse.tokens import split_line

CATALOG = load_catalog()
TABLES = [
    (source.id, name, table, source.unit.path.parent / "samples" / name)
    for source in CATALOG
    if source.parse is not None
    for name, table in source.parse.tables.items()
]
SAMPLES = [
    pytest.param(sid, name, table, path, id=f"{name}/{path.name}")
    for sid, name, table, folder in TABLES
    for path in sorted(folder.glob("*"))
    if path.is_file() and not path.name.endswith(".expected.jsonl")
]


def _ids(params):
    return [f"{p[1]}" for p in params]


def test_table_names_are_unique_across_sources():
    names = [name for _, name, _, _ in TABLES]
    assert len(names) == len(set(names))
    assert len(TABLES) >= 2


@pytest.mark.parametrize(("sid", "name", "table", "folder"), TABLES, ids=_ids(TABLES))
def test_every_table_has_samples(sid, name, table, folder):
    assert [p for p in folder.glob("*") if p.is_file()], f"no samples in {folder}"


@pytest.mark.parametrize(("sid", "name", "table", "folder"), TABLES, ids=_ids(TABLES))
def test_columns_are_sql_identifiers(sid, name, table, folder):
    for field in table.fields:
        for column in field.columns:
            assert column.replace("_", "a").isalnum() and not column[0].isdigit(), field.name


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize(("sid", "name", "table", "path"), SAMPLES)
def test_sample_agrees_with_definition(sid, name, table: Table, path):
    known = {f.name for f in table.fields}
    lines = _lines(path)
    assert lines, "empty sample"
    if table.layout == Layout.json:
        records = (
            [json.loads(line) for line in lines]
            if table.reader == "json_lines"
            else json.loads(path.read_text(encoding="utf-8"))[table.records]
        )
        assert records
        for i, record in enumerate(records):
            assert isinstance(record, dict), f"record {i} is not an object"
            assert set(record) <= known, f"record {i}: undeclared {sorted(set(record) - known)}"
        return
    if table.layout == Layout.logfmt:
        pair = r'([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)'
        for number, line in enumerate(lines, 1):
            assert re.fullmatch(rf"{pair}(?:\s+{pair})*", line), f"line {number}: not key=value"
            keys = re.findall(rf"(?:^|\s){pair}", line)
            assert {"time", "level", "msg"} <= {k for k, _ in keys}, f"line {number}"
        return
    if table.layout == Layout.pattern:
        text = path.read_text(encoding="utf-8")
        records = re.split(f"(?m)^(?={table.record_start})", text)
        assert not records[0].strip(), "text before the first record"
        for i, record in enumerate(records[1:], 1):
            match = re.fullmatch(table.pattern, record.rstrip("\n"), re.DOTALL)
            assert match, f"record {i} does not match the pattern"
        return
    if table.layout == Layout.w3c:
        directives = [line for line in lines if line.startswith("#")]
        [fields_line] = [d for d in directives if d.startswith("#Fields:")]
        names = fields_line.split(":", 1)[1].split()
        data = [line for line in lines if not line.startswith("#")]
    elif table.layout == Layout.header:
        names = lines[0].split(table.delimiter) if lines[0].split()[0] == "version" else None
        data = lines[1:] if names else lines
        names = names or table.default_order
    else:
        names, data = None, lines
    if names is not None:
        assert set(names) <= known, f"undeclared fields {sorted(set(names) - known)}"
    for number, line in enumerate(data, 1):
        count = len(split_line(line, table))
        if names is not None:
            assert count == len(names), f"data line {number}: {count} fields, header {len(names)}"
        else:
            low = table.min_fields or len(table.fields)
            assert low <= count <= len(table.fields), f"data line {number}: {count} fields"


@pytest.mark.parametrize(("sid", "name", "table", "path"), SAMPLES)
def test_sample_is_detected_as_its_table(sid, name, table, path):
    head = head_of(path.read_bytes())
    found = detect(CATALOG, path.name, head)
    assert found is not None, [c.table for c in candidates(CATALOG, path.name, head)] or "none"
    assert (found.source, found.table) == (sid, name)
