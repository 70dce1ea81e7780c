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
from datetime import UTC, datetime
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


# ECS fields that hold the peer pipeline's own processing time, not a value from the log.
_PROCESSING_TIMES = ("event.created", "event.ingested")


def _leaves(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else key
            if not where.endswith(_PROCESSING_TIMES):
                yield from _leaves(inner, where)
    elif isinstance(value, list):
        for inner in value:
            yield from _leaves(inner, path)
    elif isinstance(value, str) and value[:1] in "{[":
        try:
            yield from _leaves(json.loads(value), path)
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


def _times(values) -> set[str]:
    """Each timestamp as its UTC instant and as its written wall-clock time (to the second):
    some upstream oracles label UTC times with a local offset."""
    found = set()
    for v in values:
        if hasattr(v, "astimezone"):
            found.add(v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        elif isinstance(v, str) and _TIME.match(v):
            found.add(v[:19].replace(" ", "T"))
            with contextlib.suppress(ValueError):
                moment = datetime.fromisoformat(v.replace("Z", "+00:00"))
                if moment.tzinfo:
                    found.add(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"))
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
    if len(reports) > 1:  # a CloudWatch Logs payload: one report per log stream, checked above
        return
    [report] = reports
    if report.table is None or (report.problem and "damaged" in report.problem):
        assert report.quarantined <= 1
        return
    spec = next(
        s.parse.tables[report.table] for s in CATALOG if s.parse and report.table in s.parse.tables
    )
    unwrapped = report.file != str(path)  # a stream inside a CloudWatch Logs payload
    if spec.reader == "pattern" and not unwrapped:  # records span lines: count their starts
        starts = re.findall(f"(?m)^{spec.record_start}", path.read_text(errors="replace"))
        assert report.rows + report.quarantined == len(starts)
        return
    if spec.reader != "json_document" and report.rows + report.quarantined > 1 and not unwrapped:
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
    ours_times = _times(ours)
    missing = [v for v in expected if _times([v]) and not _times([v]) & ours_times]
    assert not missing, f"timestamps not found: {missing[:5]}"
