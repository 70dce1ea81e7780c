"""Every format sample parses, with nothing quarantined, into exactly its golden rows."""

from __future__ import annotations

import io

import pytest

from awsir.catalog import load_catalog
from awsir.parse.engine import parse_files
from awsir.parse.golden import SUFFIX, render, samples
from awsir.parse.output import StdoutSink

CATALOG = load_catalog()
SAMPLES = list(samples(CATALOG))


@pytest.mark.parametrize(("table", "path"), SAMPLES, ids=[f"{t}/{p.name}" for t, p in SAMPLES])
def test_sample_matches_golden_rows(table, path):
    expected = path.with_name(path.name + SUFFIX)
    assert expected.exists(), f"no golden output: run python -m awsir.parse.golden ({path})"
    text, report = render(CATALOG, table, path)
    assert report.quarantined == 0 and report.problem is None, report
    assert report.rows == len(text.splitlines()) > 0
    assert text == expected.read_text(encoding="utf-8")


def test_every_golden_file_has_its_sample():
    inputs = {p for _, p in SAMPLES}
    for source in CATALOG:
        for golden in source.unit.path.parent.glob(f"samples/*/*{SUFFIX}"):
            assert golden.with_name(golden.name.removesuffix(SUFFIX)) in inputs, golden


@pytest.mark.parametrize(("table", "path"), SAMPLES, ids=[f"{t}/{p.name}" for t, p in SAMPLES])
def test_sample_is_recognized_without_format(table, path):
    """Auto-detection sends each sample to its own table: a Security Hub GetFindings export of
    GuardDuty findings names GuardDuty ARNs, yet is ASFF, not GuardDuty's own API output."""
    sink = StdoutSink(io.StringIO())
    reports = list(parse_files([path], CATALOG, sink))
    sink.close()
    assert [(r.table, r.quarantined, r.problem) for r in reports] == [(table, 0, None)]
