"""Rows of several files are converted together, yet every row keeps its own file's origin.

The engine batches blocks of the same table across files (one SQL statement per batch); these
tests check what that must not change: ``raw_ref`` and the key-layout account/Region per file,
quarantine entries naming the right file and raw line, reports handed out only once their rows
are written, and an internal error reported on the files it hit while the run goes on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from awsir.catalog import load_catalog
from awsir.parse import batch
from awsir.parse.engine import Parser, parse_files

CATALOG = load_catalog()
# No target group ARN, so the account and Region can only come from the key layout.
ALB = (
    'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 '
    '10.0.0.1:80 0.000 0.001 0.000 {status} 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" '
    '"curl/7.46.0" - - - "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 '
    '2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"'
)  # fmt: skip


class Memory:
    def __init__(self):
        self.rows_written: list[dict] = []
        self.bad: list[dict] = []

    def rows(self, table, rows):
        self.rows_written += rows.to_pylist()

    def quarantine(self, rows):
        self.bad += rows.to_pylist()


def alb_file(root: Path, account: str, region: str, statuses: list[str]) -> Path:
    """An ALB log under AWS's key layout, so account and Region come from the path."""
    folder = root / f"AWSLogs/{account}/elasticloadbalancing/{region}/2018/07/02"
    folder.mkdir(parents=True, exist_ok=True)
    n = len(list(folder.iterdir()))  # a new file each call
    path = folder / f"{account}_elasticloadbalancing_{region}_app.my-lb.50dc_20180702T2225Z_{n}.log"
    path.write_text("".join(ALB.format(status=s) + "\n" for s in statuses))
    return path


def test_each_row_keeps_its_own_files_origin(tmp_path):
    first = alb_file(tmp_path, "111122223333", "eu-west-1", ["200", "404"])
    second = alb_file(tmp_path, "444455556666", "ap-south-1", ["500", "200", "302"])
    sink = Memory()
    reports = list(parse_files([first, second], CATALOG, sink))
    assert [(r.file, r.rows, r.quarantined) for r in reports] == [
        (str(first), 2, 0),
        (str(second), 3, 0),
    ]
    origin = [(r["raw_ref"], r["account_id"], r["region"]) for r in sink.rows_written]
    assert origin == [
        (f"{first}:1", "111122223333", "eu-west-1"),
        (f"{first}:2", "111122223333", "eu-west-1"),
        (f"{second}:1", "444455556666", "ap-south-1"),
        (f"{second}:2", "444455556666", "ap-south-1"),
        (f"{second}:3", "444455556666", "ap-south-1"),
    ]
    assert [r["elb_status_code"] for r in sink.rows_written] == [200, 404, 500, 200, 302]


def test_a_row_that_fails_conversion_is_quarantined_under_its_own_file(tmp_path):
    first = alb_file(tmp_path, "111122223333", "eu-west-1", ["200", "404"])
    second = alb_file(tmp_path, "444455556666", "eu-west-1", ["200", "2OO", "503"])
    sink = Memory()
    reports = list(parse_files([first, second], CATALOG, sink))
    assert [(r.rows, r.quarantined) for r in reports] == [(2, 0), (2, 1)]
    [bad] = sink.bad
    assert (bad["file"], bad["line"]) == (str(second), 2)
    assert bad["reason"] == "elb_status_code: not a valid int: 2OO"
    assert bad["raw"] == ALB.format(status="2OO").encode()
    assert [r["raw_ref"] for r in sink.rows_written] == [
        f"{first}:1",
        f"{first}:2",
        f"{second}:1",
        f"{second}:3",
    ]


def test_reports_wait_for_their_rows(tmp_path):
    """A file's report is handed out only once its rows are written: a worker's report is
    what the parent counts as done."""
    first = alb_file(tmp_path, "111122223333", "eu-west-1", ["200"])
    second = alb_file(tmp_path, "111122223333", "eu-west-1", ["200", "200"])
    sink = Memory()
    with Parser(CATALOG, sink) as parser:
        assert parser.parse(first) == []  # rows waiting in the batch: not done yet
        assert parser.parse(second) == []
        assert sink.rows_written == []
        reports = parser.finish()
    assert [(r.file, r.rows) for r in reports] == [(str(first), 1), (str(second), 2)]
    assert len(sink.rows_written) == 3


def test_a_full_batch_is_written_and_its_reports_handed_out(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "BATCH_ROWS", 3)
    first = alb_file(tmp_path, "111122223333", "eu-west-1", ["200", "200"])
    second = alb_file(tmp_path, "111122223333", "eu-west-1", ["200", "200"])
    third = alb_file(tmp_path, "111122223333", "eu-west-1", ["200"])
    sink = Memory()
    with Parser(CATALOG, sink) as parser:
        assert parser.parse(first) == []
        done = parser.parse(second)  # 4 rows waiting >= 3: converted now
        assert [(r.file, r.rows) for r in done] == [(str(first), 2), (str(second), 2)]
        assert len(sink.rows_written) == 4
        assert parser.parse(third) == []
        assert [r.file for r in parser.finish()] == [str(third)]


def test_an_internal_error_is_reported_on_the_files_it_hit(tmp_path, monkeypatch):
    """A bug in conversion names the files whose rows were lost; later files still parse."""
    first = alb_file(tmp_path, "111122223333", "eu-west-1", ["200"])
    later = alb_file(tmp_path, "444455556666", "eu-west-1", ["200"])

    def broken(*args, **kwargs):
        raise RuntimeError("conversion bug")

    sink = Memory()
    with Parser(CATALOG, sink) as parser:
        parser.parse(first)
        with monkeypatch.context() as patched:
            patched.setattr(batch, "convert", broken)
            [failed] = parser.finish()
        assert failed.file == str(first) and "conversion bug" in (failed.problem or "")
        parser.parse(later)
        [ok] = parser.finish()
    assert (ok.rows, ok.problem) == (1, None)
    assert [r["account_id"] for r in sink.rows_written] == ["444455556666"]


@pytest.mark.parametrize("rows_limit", [1, 100_000])
def test_batch_size_does_not_change_the_rows(tmp_path, monkeypatch, rows_limit):
    files = [
        alb_file(tmp_path, "111122223333", "eu-west-1", ["200", "404", "500"][: k + 1])
        for k in range(3)
    ]
    monkeypatch.setattr(batch, "BATCH_ROWS", rows_limit)
    sink = Memory()
    reports = list(parse_files(files, CATALOG, sink))
    assert [r.rows for r in reports] == [1, 2, 3]
    assert [r["raw_ref"].rsplit(":", 1)[1] for r in sink.rows_written] == list("112123")
