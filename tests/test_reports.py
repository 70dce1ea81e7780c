"""Readiness reports written as files, from an inventory (no AWS): every format holds every
verdict, and the HTML page escapes what came from AWS."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser

import pytest

from awsir.readiness import reports
from awsir.readiness.scan import evaluate

HOSTILE = "/aws/<script>alert(1)</script>&x"


@pytest.fixture(scope="module")
def report():
    groups = [{"logGroupName": HOSTILE, "retentionInDays": 7}, {"logGroupName": "/aws/ok"}]
    denied = {"error": {"code": "AccessDenied", "message": "no"}}
    raw = {
        "account": "111122223333", "regions": ["us-east-1", "eu-west-1"],
        "taken": "2026-11-23T06:00:00+00:00",
        "calls": {"us-east-1": {"logs.DescribeLogGroups": {"ok": {"logGroups": groups}}},
                  "eu-west-1": {"logs.DescribeLogGroups": denied}},
    }  # fmt: skip
    return evaluate([raw])


def test_every_format_holds_every_verdict(report, tmp_path):
    n = len(report.findings)
    for name in ("r.csv", "r.json", "r.ocsf.json", "r.asff.json", "r.html"):
        reports.write(report, tmp_path / name, [])
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert len(rows) == n and set(rows[0]) == set(reports.CSV_COLUMNS)
    full = json.loads((tmp_path / "r.json").read_text())
    assert len(full["verdicts"]) == n and full["score"] == report.score
    assert {q["question"] for q in full["questions"]} >= {"iam_changes", "last_year"}
    ocsf = json.loads((tmp_path / "r.ocsf.json").read_text())
    assert len(ocsf) == n and {f["class_uid"] for f in ocsf} == {2003}
    assert {f["compliance"]["status"] for f in ocsf} >= {"Pass", "Fail", "Unknown"}
    asff = json.loads((tmp_path / "r.asff.json").read_text())
    required = {"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types",
                "CreatedAt", "UpdatedAt", "Severity", "Title", "Description",
                "Resources"}  # fmt: skip
    assert len(asff) == n and all(required <= set(f) for f in asff)
    assert len({f["Id"] for f in asff}) == n  # one id per verdict
    assert {f["Compliance"]["Status"] for f in asff} >= {"PASSED", "FAILED", "WARNING"}


def test_the_html_page_escapes_what_came_from_aws(report, tmp_path):
    page = tmp_path / "r.html"
    reports.write(report, page, [{"taken": "2026-11-01", "score": 40},
                                 {"taken": "2026-11-23", "score": 55}])  # fmt: skip
    text = page.read_text()
    assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;&amp;x" in text
    assert "Content-Security-Policy" in text and text.count("<svg") == 2  # bars and trend

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.seen.append(tag)

    parser = Tags()
    parser.feed(text)
    assert "script" not in parser.seen and "table" in parser.seen and "polyline" in parser.seen


def test_a_report_name_must_say_its_format(cli, tmp_path):
    result = cli("scan", "--from-snapshot", str(tmp_path / "x.json"), "-o", str(tmp_path / "r.pdf"))
    assert result.returncode == 2 and "names its format" in result.stderr
