"""Sigma rules compiled to DuckDB SQL (``awsir.detect.backend``): Sigma's matching semantics
checked on a real case, and every upstream SigmaHQ AWS rule compiles and binds to the
CloudTrail view (``../shared/sigma/aws``, never copied into the repo)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from sigma.collection import SigmaCollection

from awsir.detect.backend import DuckDBBackend
from awsir.store.case import Case
from awsir.store.catalog import _json_fields, open_case
from tests.conftest import REPO

UPSTREAM = REPO.parent / "shared" / "sigma" / "aws"
SAMPLES = REPO / "src" / "awsir" / "sources" / "cloudtrail_trail" / "samples" / "cloudtrail"


def record(name: str, **extra: object) -> dict:
    who = {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/backup-admin",
           "accountId": "111122223333", "userName": "backup-admin"}  # fmt: skip
    return {"eventVersion": "1.09", "eventSource": "cloudtrail.amazonaws.com",
            "eventName": name, "eventTime": "2024-05-14T09:41:07Z", "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7", "userIdentity": who,
            "requestParameters": {"name": "management-events"},
            "eventID": f"id-{name}", "recipientAccountId": "111122223333", **extra}  # fmt: skip


@pytest.fixture(scope="module")
def con(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("detect")
    denied = (
        "User: arn:aws:iam::111122223333:user/backup-admin is not authorized to perform: "
        "cloudtrail:DeleteTrail on resource: management-events"
    )
    trail = {"Records": [
        record("StopLogging"),
        record("DeleteTrail", errorCode="AccessDenied", errorMessage=denied),
    ]}  # fmt: skip
    (folder / "trail.json").write_text(json.dumps(trail))
    case = folder / "case"
    assert (
        cli("ingest", str(folder / "trail.json"), str(SAMPLES), "--case", str(case)).returncode == 0
    )
    connection = open_case(Case(case))
    yield connection
    connection.close()


def compile_rule(text: str) -> str:
    backend = DuckDBBackend().for_view("cloudtrail", set(), _json_fields()["cloudtrail"])
    [rule] = list(SigmaCollection.from_yaml(text))
    [sql] = backend.convert_rule(rule)
    return str(sql)


def matches(con: duckdb.DuckDBPyConnection, detection: str) -> set[str]:
    text = (
        "title: t\nlogsource: {product: aws, service: cloudtrail}\n"
        f"detection:\n{detection}\n  condition: selection\n"
    )
    rows = con.sql(f"SELECT eventName FROM ({compile_rule(text)})").fetchall()
    return {name for (name,) in rows}


def test_values_match_case_insensitively_and_wildcards_are_sigmas(con):
    assert matches(con, "  selection:\n    eventName: stoplogging") == {"StopLogging"}
    assert matches(con, "  selection:\n    eventName: 'Delete*'") == {"DeleteTrail"}
    assert matches(con, "  selection:\n    eventName|endswith: logging") == {"StopLogging"}
    assert matches(con, "  selection:\n    eventName: 'Stop_ogging'") == set()  # _ is literal


def test_nested_json_fields_keywords_and_null(con):
    by_user = "  selection:\n    userIdentity.userName: backup-admin\n    errorCode: AccessDenied"
    assert matches(con, by_user) == {"DeleteTrail"}
    inside = "  selection:\n    requestParameters|contains: management-events"
    assert {"StopLogging", "DeleteTrail"} <= matches(con, inside)
    keyword = "  selection:\n    - 'not authorized to perform: cloudtrail:DeleteTrail'"
    assert matches(con, keyword) == {"DeleteTrail"}
    unset = "  selection:\n    eventName: StopLogging\n    errorCode: null"
    assert matches(con, unset) == {"StopLogging"}
    regex = "  selection:\n    eventName|re: '^(Stop|Delete)[A-Z]'"
    assert {"StopLogging", "DeleteTrail"} <= matches(con, regex)


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason=f"no upstream Sigma rules at {UPSTREAM}")
def test_every_upstream_aws_rule_compiles_and_binds(con):
    rules = sorted(Path(UPSTREAM).rglob("*.yml"))
    assert len(rules) >= 50
    columns = {name for (name, *_) in con.sql("DESCRIBE cloudtrail").fetchall()}
    unknown: set[str] = set()
    for path in rules:
        for rule in SigmaCollection.from_yaml(path.read_text(encoding="utf-8")):
            backend = DuckDBBackend().for_view("cloudtrail", columns, _json_fields()["cloudtrail"])
            [sql] = backend.convert_rule(rule)
            con.sql(f"EXPLAIN {sql}")  # binds: every column and function exists
            unknown |= backend.unknown_fields
    # a field CloudTrail records lack is an absent value, not an error; real fields are columns
    assert not unknown & {"eventName", "eventSource", "errorCode", "userIdentity.arn"}
