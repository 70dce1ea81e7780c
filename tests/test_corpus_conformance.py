"""Real AWS log samples from public projects (../shared/corpus): parse or quarantine, reconcile.

For every file: no crash, and rows + quarantined + skipped structure account for every line
(counted independently here). Where the upstream project ships its own expected parse
(``*.expected.json``, in its own schema), every IP address and timestamp it extracted must be
among the values of our rows. Skipped with a message when ../shared is not beside the clone.
"""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from awsir.catalog import load_catalog
from awsir.parse.engine import parse_files

from .conftest import SHARED

CORPUS = SHARED / "corpus"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not present")
CATALOG = load_catalog()
FILES = sorted(
    p
    for p in (CORPUS.rglob("*") if CORPUS.is_dir() else [])
    if p.is_file()
    and not {"LICENSES", "attacks"} & set(p.relative_to(CORPUS).parts)
    and not p.name.endswith(".expected.json")
    and p.suffix != ".md"
)
_TIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d")


class Sink:
    def __init__(self):
        self.got: list[dict] = []
        self.bad: list[dict] = []

    def rows(self, table, batch):
        self.got.extend(batch.to_pylist())

    def quarantine(self, batch):
        self.bad.extend(batch.to_pylist())


def _lines(path: Path) -> int:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError):
            return -1
    return len(data.splitlines())


def _leaves(value):
    if isinstance(value, dict):
        for inner in value.values():
            yield from _leaves(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _leaves(inner)
    elif isinstance(value, str) and value[:1] in "{[":
        try:
            yield from _leaves(json.loads(value))
        except ValueError:
            yield value
    else:
        yield value


def _ips(values) -> set[str]:
    found = set()
    for v in values:
        if isinstance(v, str):
            with contextlib.suppress(ValueError):
                found.add(str(ipaddress.ip_address(v)))
    return found


def _seconds(values) -> set[int]:
    found = set()
    for v in values:
        if hasattr(v, "timestamp"):
            found.add(int(v.timestamp()))
        elif isinstance(v, str) and _TIME.match(v):
            with contextlib.suppress(ValueError):
                found.add(int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()))
    return found


def _parse(path: Path):
    sink = Sink()
    reports = list(parse_files([path], CATALOG, sink))
    return reports, sink


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_line_is_a_row_quarantined_or_structure(path):
    reports, sink = _parse(path)
    assert len(sink.bad) == sum(r.quarantined for r in reports)
    assert len(sink.got) == sum(r.rows for r in reports)
    [report] = reports
    if report.table is None or (report.problem and "damaged" in report.problem):
        assert report.quarantined <= 1
        return
    spec = next(
        s.parse.tables[report.table] for s in CATALOG if s.parse and report.table in s.parse.tables
    )
    if spec.reader != "json_document" and report.rows + report.quarantined > 1:
        assert report.rows + report.quarantined + report.skipped == _lines(path)


EXPECTED = [p for p in FILES if p.with_name(p.stem + ".expected.json").exists()]


@pytest.mark.parametrize("path", EXPECTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_values_agree_with_the_upstream_expected_parse(path):
    reports, sink = _parse(path)
    if reports[0].table is None:
        pytest.skip(f"not recognised yet: {path.name} (wrapper or envelope format)")
    try:
        oracle = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    except ValueError as exc:
        pytest.skip(f"the upstream expected file is not valid JSON: {exc}")
    expected = list(_leaves(oracle))
    ours = [v for row in sink.got for v in _leaves(row)]
    missing_ips = _ips(expected) - _ips(ours)
    assert not missing_ips, f"IPs the upstream parse found that we did not: {missing_ips}"
    missing_times = _seconds(expected) - _seconds(ours)
    assert not missing_times, f"timestamps not found: {sorted(missing_times)[:5]}"
