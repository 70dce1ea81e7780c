"""``awsir ingest`` / ``query`` / ``summary`` end to end, through the real CLI.

Counts reconcile between what was parsed and what the case's views hold; the same evidence
ingested twice adds nothing; an ingest killed (SIGKILL) at each step of its commit leaves no
partial rows and the next ingest finishes the job; one writer at a time; queries never modify
the case.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from awsir.store.case import Case
from tests.conftest import REPO

SOURCES = REPO / "src" / "awsir" / "sources"


def evidence(tmp_path: Path) -> Path:
    """Real samples of several formats (the golden files are left out: they are awsir's
    output, not AWS logs), one of them gzip'd, plus one file of no known format."""
    folder = tmp_path / "evidence"
    for table in ("alb", "cloudtrail_trail", "vpc_flow", "route53_resolver_query", "eks"):
        for path in sorted((SOURCES / table / "samples").rglob("*")):
            if path.is_file() and not path.name.endswith(".expected.jsonl"):
                target = folder / table / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    first_alb = sorted((folder / "alb").iterdir())[0]
    first_alb.with_name(first_alb.name + ".gz").write_bytes(gzip.compress(first_alb.read_bytes()))
    first_alb.unlink()
    (folder / "notes.txt").write_text("not a log\n")
    return folder


def query(cli, case: Path, sql: str) -> list[dict]:
    result = cli("query", sql, "--case", str(case), "--format", "json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def snapshot(case: Path) -> dict[str, str]:
    return {
        str(p.relative_to(case)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(case.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cli):
    """One clean ingest: the counts every other case must end up with."""
    tmp = tmp_path_factory.mktemp("reference")
    folder, case = evidence(tmp), tmp / "case"
    result = cli("ingest", str(folder), "--case", str(case))
    assert result.returncode == 0, result.stderr
    [row] = query(cli, case, "SELECT count(*) AS n, count(DISTINCT raw_ref) AS refs FROM events")
    return {"folder": folder, "case": case, "events": row["n"], "stderr": result.stderr}


def test_counts_reconcile(cli, reference):
    case = reference["case"]
    [parsed] = query(cli, case, 'SELECT sum("rows") AS r, sum(quarantined) AS q FROM ingested')
    [held] = query(cli, case, "SELECT count(*) AS n, count(DISTINCT raw_ref) AS refs FROM events")
    [bad] = query(cli, case, "SELECT count(*) AS n FROM quarantine")
    assert held["n"] == parsed["r"] == held["refs"] > 0
    assert bad["n"] == parsed["q"] >= 1  # notes.txt is not a log: quarantined, with its reason
    per_source = query(cli, case, "SELECT source, count(*) AS n FROM events GROUP BY 1")
    assert {r["source"] for r in per_source} >= {"alb", "cloudtrail", "vpc_flow", "eks_audit"}
    [ct] = query(cli, case, "SELECT count(*) AS n FROM cloudtrail WHERE eventTime IS NOT NULL")
    assert ct["n"] == next(r["n"] for r in per_source if r["source"] == "cloudtrail")
    assert "events" in reference["stderr"] and "accounts:" in reference["stderr"]


def test_lake_is_partitioned_by_source_account_region_day(reference):
    parts = [
        p.relative_to(reference["case"] / "lake")
        for p in (reference["case"] / "lake").rglob("*.parquet")
    ]
    assert parts
    for part in parts:
        _table, account, region, day, _file = part.parts
        assert account.startswith("account_id=") and region.startswith("region=")
        assert day.startswith("day=")
    assert any(
        p.parts[0] == "cloudtrail" and p.parts[1] == "account_id=123456789012" for p in parts
    )


def test_each_lake_file_is_sorted_by_who_from_where_when(reference):
    """Rows of one principal or address sit together, so row-group statistics skip the rest."""
    import duckdb

    from awsir.store.layout import CLUSTER_BY

    key = "(" + ", ".join(CLUSTER_BY) + ")"
    files = [str(p) for p in (reference["case"] / "lake").rglob("*.parquet")]
    [(rows, out_of_order, actors)] = duckdb.sql(
        f"SELECT count(*), count(*) FILTER (WHERE k < previous), count(DISTINCT actor) FROM ("
        f"SELECT {key} AS k, lag({key}) OVER (PARTITION BY filename ORDER BY file_row_number) "
        f"AS previous, actor FROM read_parquet({files!r}, filename = true, file_row_number = true,"
        " hive_partitioning = false, union_by_name = true))"
    ).fetchall()
    assert rows > 50 and actors > 5 and out_of_order == 0


def test_ingesting_the_same_files_again_adds_nothing_and_new_files_append(cli, reference, tmp_path):
    case = tmp_path / "case"
    shutil.copytree(reference["case"], case)
    again = cli("ingest", str(reference["folder"]), "--case", str(case))
    assert again.returncode == 0, again.stderr
    assert "0 new file(s)" in again.stderr
    [row] = query(cli, case, "SELECT count(*) AS n FROM events")
    assert row["n"] == reference["events"]
    extra = tmp_path / "more.log"
    flow = SOURCES / "vpc_flow/samples/vpc_flow/default_v2.log"
    extra.write_text(flow.read_text().replace("ACCEPT", "REJECT"))
    more = cli("ingest", str(extra), "--case", str(case))
    assert more.returncode == 0 and "1 new file(s)" in more.stderr
    [after] = query(cli, case, "SELECT count(*) AS n, count(DISTINCT raw_ref) AS refs FROM events")
    assert after["n"] > reference["events"] and after["refs"] == after["n"]


@pytest.mark.parametrize("step", ["parsed", "journal", "moving", "registered"])
def test_an_ingest_killed_at_any_step_leaves_no_partial_rows_and_is_finished_next_time(
    cli, reference, tmp_path, step
):
    case = tmp_path / "case"
    killed = cli(
        "ingest", str(reference["folder"]), "--case", str(case), env={"AWSIR_CRASH_AT": step}
    )
    assert killed.returncode == -9, killed.stderr  # SIGKILL: no cleanup ran
    [seen] = query(cli, case, "SELECT count(*) AS n FROM events")
    assert seen["n"] == 0  # the views show the case as before: no partial rows
    again = cli("ingest", str(reference["folder"]), "--case", str(case))
    assert again.returncode == 0, again.stderr
    assert "recovered:" in again.stderr
    [row] = query(cli, case, "SELECT count(*) AS n, count(DISTINCT raw_ref) AS refs FROM events")
    assert row == {"n": reference["events"], "refs": reference["events"]}
    assert not (case / "journal.json").exists() and not list((case / "staging").iterdir())
    lake_files = {str(p.relative_to(case)) for p in (case / "lake").rglob("*.parquet")}
    listed = {f for b in Case(case).batches() for files in b["lake"].values() for f in files}
    assert lake_files == listed  # no orphan files


def test_one_writer_at_a_time(cli, reference, tmp_path):
    case = Case(tmp_path / "case")
    with case.writing():
        busy = cli("ingest", str(reference["folder"]), "--case", str(case.root))
    assert busy.returncode == 1
    assert "another awsir ingest" in busy.stderr and "--wait" in busy.stderr


def test_queries_never_modify_the_case(cli, reference):
    case = reference["case"]
    before = snapshot(case)
    query(cli, case, "SELECT * FROM events LIMIT 5")
    assert cli("summary", "--case", str(case)).returncode == 0
    cli("query", "DROP VIEW events", "--case", str(case))
    assert snapshot(case) == before


def test_bad_sql_lists_the_views_and_columns(cli, reference):
    result = cli("query", "SELECT nope FROM events", "--case", str(reference["case"]))
    assert result.returncode == 2
    assert "nope" in result.stderr and "views of this case" in result.stderr
    assert "cloudtrail: time, account_id" in result.stderr


def test_query_formats_and_summary(cli, reference):
    case = str(reference["case"])
    csv = cli(
        "query",
        "SELECT source, count(*) AS n FROM events GROUP BY 1 ORDER BY 1",
        "--case",
        case,
        "--format",
        "csv",
    )
    assert csv.returncode == 0 and csv.stdout.splitlines()[0] == '"source","n"'
    summary = cli("summary", "--case", case, "--json")
    assert summary.returncode == 0, summary.stderr
    found = json.loads(summary.stdout)
    assert sum(s["events"] for s in found["sources"]) == reference["events"]
    assert found["accounts"] and found["regions"] and found["actors"]
    assert any(e["outcome"] == "denied" for e in found["errors"])
    missing = cli("summary", "--case", str(Path(case) / "nothing-here"))
    assert missing.returncode == 2 and "awsir ingest" in missing.stderr


def timeline(cli, case: Path, *options: str) -> list[dict]:
    result = cli("timeline", "--case", str(case), "--format", "json", *options)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_timeline_follows_one_subject_across_sources_in_time_order(cli, reference):
    case = reference["case"]
    window = timeline(cli, case, "--from", "2024-05-14T08:00:00Z", "--to", "2024-05-14T12:00:00Z")
    times = [e["time"] for e in window]
    assert times == sorted(times) and len(times) >= 5
    assert all("2024-05-14T08" <= t[:13] <= "2024-05-14T12" for t in times)
    by_ip = timeline(cli, case, "--ip", "198.51.100.77")
    assert by_ip and all(e["src_ip"] == "198.51.100.77" for e in by_ip)
    # the key signed a CloudTrail call, and an EKS authentication (its authenticator log)
    key = {e["source"]: e for e in timeline(cli, case, "--access-key", "AKIAIOSFODNN7EXAMPLE")}
    assert set(key) == {"cloudtrail", "eks_authenticator"}
    assert key["cloudtrail"]["action"] == "sts:AssumeRole"
    assert key["cloudtrail"]["actor"].endswith(":user/Alice")
    [session] = timeline(cli, case, "--session", "alice-admin")
    assert session["action"] == "iam:CreateAccessKey" and session["outcome"] == "denied"
    mary = timeline(cli, case, "--actor", "Mary_Major", "--sources", "cloudtrail")
    assert {e["source"] for e in mary} == {"cloudtrail"} and len(mary) >= 2
    table = cli("timeline", "--case", str(case), "--actor", "Mary_Major")
    assert table.returncode == 0 and "ConsoleLogin" in table.stdout
    # free text (IOCs), any of them: a user agent only CloudTrail's userAgent holds, and a
    # word of ALB request lines
    iocs = timeline(cli, case, "--text", "command/iam.create-access-key", "--text", "curl")
    assert {e["source"] for e in iocs} == {"cloudtrail", "alb"}
    assert [e["action"] for e in iocs if e["source"] == "cloudtrail"] == ["iam:CreateAccessKey"]
    bad = cli("timeline", "--case", str(case), "--from", "yesterday-ish")
    assert bad.returncode == 2 and "error:" in bad.stderr


def test_pivot_links_what_a_value_touched(cli, reference):
    case = str(reference["case"])
    result = cli("pivot", "AKIAIOSFODNN7EXAMPLE", "--case", case, "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["kind"] == "access_key"
    assert {s["source"] for s in found["seen"]} == {"cloudtrail", "eks_authenticator"}
    assert "arn:aws:iam::123456789012:user/Alice" in [a["actor"] for a in found["actors"]]
    assert "192.0.2.101" in {s["src_ip"] for s in found["source_ips"]}
    assert any(link["link"] == "same access key" for link in found["linked"])
    by_ip = json.loads(cli("pivot", "192.0.2.101", "--case", case, "--json").stdout)
    assert by_ip["kind"] == "ip" and by_ip["seen"][0]["source"] == "cloudtrail"
    assert {a["action"] for a in by_ip["actions"]} >= {"sts:AssumeRole", "iam:CreateAccessKey"}
    nothing = cli("pivot", "203.0.113.250", "--case", case)
    assert nothing.returncode == 0 and "not seen in this case" in nothing.stdout


def test_exports(cli, reference, tmp_path):
    case = str(reference["case"])
    sketch = tmp_path / "timeline.jsonl"
    result = cli("export", "timesketch", "--case", case, "-o", str(sketch))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in sketch.read_text().splitlines()]
    [timed] = query(cli, Path(case), "SELECT count(*) AS n FROM events WHERE time IS NOT NULL")
    assert len(lines) == timed["n"]
    assert all(line["message"] and line["timestamp_desc"] for line in lines)
    assert all(line["datetime"].endswith("Z") and "T" in line["datetime"] for line in lines)
    rows = tmp_path / "cloudtrail.csv"
    sql = "SELECT time, eventName, actor FROM cloudtrail ORDER BY time"
    assert cli("export", "csv", "--case", case, "-o", str(rows), "--query", sql).returncode == 0
    header, first, *_ = rows.read_text().splitlines()
    assert header == "time,eventName,actor" and first.split(",")[0].endswith("Z")
    ddl = cli("export", "athena", "--case", case, "--location", "s3://evidence-bucket/case-1/lake")
    assert ddl.returncode == 0, ddl.stderr
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS awsir.`cloudtrail`" in ddl.stdout
    assert "LOCATION 's3://evidence-bucket/case-1/lake/vpc_flow/'" in ddl.stdout
    assert "PARTITIONED BY (`account_id` string, `region` string, `day` date)" in ddl.stdout
    assert "`userIdentity` string" in ddl.stdout and "`eventTime` timestamp" in ddl.stdout
    assert cli("export", "athena", "--case", case).returncode == 2  # needs --location


def test_ingest_from_s3_keeps_the_object_names(cli, moto_server, tmp_path, monkeypatch):
    """s3://bucket/prefix is listed and fetched with boto3 over HTTP (a local moto server);
    rows and the registry name the S3 objects, and a second ingest adds nothing."""
    import boto3

    for name, value in moto_server.items():
        monkeypatch.setenv(name, value)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="trail-bucket")
    trail = SOURCES / "cloudtrail_trail/samples/cloudtrail/console_login_success_failure.json"
    key = (
        "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/14/"
        "123456789012_CloudTrail_eu-west-1_20240514T0810Z_abc.json.gz"
    )
    s3.put_object(Bucket="trail-bucket", Key=key, Body=gzip.compress(trail.read_bytes()))
    s3.put_object(Bucket="trail-bucket", Key="AWSLogs/notes.txt", Body=b"not a log\n")
    case = tmp_path / "case"
    first = cli("ingest", "s3://trail-bucket/AWSLogs/", "--case", str(case), env=moto_server)
    assert first.returncode == 0, first.stderr
    assert "2 new file(s)" in first.stderr
    rows = query(cli, case, "SELECT raw_ref, account_id FROM cloudtrail")
    assert rows and all(r["raw_ref"].startswith(f"s3://trail-bucket/{key}:") for r in rows)
    [bad] = query(cli, case, "SELECT file FROM quarantine")
    assert bad["file"] == "s3://trail-bucket/AWSLogs/notes.txt"
    paths = {r["path"] for r in query(cli, case, "SELECT path FROM ingested")}
    assert paths == {f"s3://trail-bucket/{key}", "s3://trail-bucket/AWSLogs/notes.txt"}
    again = cli("ingest", "s3://trail-bucket/AWSLogs/", "--case", str(case), env=moto_server)
    assert again.returncode == 0 and "0 new file(s), 2 already in the case" in again.stderr
    assert not [p for p in (case / "staging").iterdir()]  # downloads are not kept
    missing = cli("ingest", "s3://no-such-bucket/x", "--case", str(case), env=moto_server)
    assert missing.returncode == 1 and "NoSuchBucket" in missing.stderr
    # a key climbing out of the download folder (case/staging/s3-*/<bucket>/) stays inside
    climbing = "AWSLogs/" + "../" * 5 + "escaped.log"
    s3.put_object(Bucket="trail-bucket", Key=climbing, Body=b"not a log either\n")
    hostile = cli("ingest", "s3://trail-bucket/AWSLogs/", "--case", str(case), env=moto_server)
    assert hostile.returncode == 0, hostile.stderr
    assert not list(tmp_path.rglob("escaped.log")) and "1 new file(s)" in hostile.stderr
    s3.delete_object(Bucket="trail-bucket", Key=climbing)


def test_an_ingest_that_fails_says_so_and_adds_nothing(reference, tmp_path, monkeypatch):
    """Out of memory in the partitioned rewrite (forced here with a tiny limit): one line of
    error, exit 1, no traceback, and the case unchanged."""
    from typer.testing import CliRunner

    from awsir import cli as cli_module
    from awsir.store import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "rewrite_memory", lambda: "1KB")
    case = tmp_path / "case"
    result = CliRunner().invoke(
        cli_module.app, ["ingest", str(reference["folder"]), "--case", str(case), "-j", "1"]
    )
    assert result.exit_code == 1
    assert "error: ingest stopped, nothing added to the case" in result.output
    assert "Traceback" not in result.output
    assert Case(case).batches() == [] and not list((case / "lake").rglob("*.parquet"))


def test_ocsf_views_and_security_lake_export(cli, reference, tmp_path):
    case = reference["case"]
    [api] = query(
        cli, case, "SELECT count(*) AS n, count(DISTINCT class_uid) AS classes, "
        "count(*) FILTER (WHERE actor.user.uid IS NULL) AS no_actor FROM ocsf_api_activity "
        "WHERE metadata.product.name = 'cloudtrail'",
    )  # fmt: skip
    [ct] = query(cli, case, "SELECT count(*) AS n, count(actor) AS actors FROM cloudtrail")
    assert api["n"] == ct["n"] > 0 and api["classes"] == 1
    assert api["n"] - api["no_actor"] == ct["actors"]
    [flows] = query(
        cli, case, "SELECT count(*) AS n, count(src_endpoint.ip) AS ips, min(category_uid) AS c "
        "FROM ocsf_network_activity",
    )  # fmt: skip
    assert flows["n"] > 0 and flows["ips"] > 0 and flows["c"] == 4
    [denied] = query(
        cli, case, "SELECT count(*) AS n FROM ocsf_api_activity WHERE status = 'Failure' "
        "AND status_detail = 'denied' AND api.operation = 'CreateAccessKey'",
    )  # fmt: skip
    assert denied["n"] == 1
    activities = query(
        cli, case, "SELECT class_uid, activity_id, activity_name, type_uid, "
        "api.operation AS what FROM ocsf_api_activity "
        "UNION ALL SELECT class_uid, activity_id, activity_name, type_uid, status "
        "FROM ocsf_network_activity UNION ALL SELECT class_uid, activity_id, activity_name, "
        "type_uid, http_request.http_method FROM ocsf_http_activity",
    )  # fmt: skip
    seen = {(a["class_uid"], a["what"], a["activity_name"]) for a in activities}
    assert {(6003, "CreateAccessKey", "Create"), (6003, "ListAccessKeys", "Read"),
            (6003, "ConsoleLogin", "Other"), (4001, "Failure", "Refuse"),
            (4001, "Success", "Traffic"), (4002, "GET", "Get")} <= seen  # fmt: skip
    assert all(a["type_uid"] == a["class_uid"] * 100 + a["activity_id"] for a in activities)
    out = tmp_path / "security-lake"
    result = cli("export", "ocsf", "--case", str(case), "-o", str(out))
    assert result.returncode == 0, result.stderr
    parts = list((out / "ext" / "cloudtrail").rglob("*.parquet"))
    assert parts and all(
        p.parent.name.startswith("eventDay=") and len(p.parent.name) == len("eventDay=20240514")
        for p in parts
    )
    assert {p.parent.parent.parent.name.split("=")[0] for p in parts} == {"region"}
    import duckdb

    [(count,)] = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{out}/ext/cloudtrail/**/*.parquet')"
    ).fetchall()
    assert count == ct["n"]


def test_usage_errors_are_named_before_anything_runs(cli, reference, tmp_path):
    case = str(reference["case"])
    bad_format = cli("query", "SELECT 1", "--case", case, "--format", "xml")
    assert bad_format.returncode == 2 and "xml" in bad_format.stderr
    bad_format = cli("timeline", "--case", case, "--format", "xml")
    assert bad_format.returncode == 2
    bad_uri = cli("ingest", "s3://", "--case", str(tmp_path / "case"))
    assert bad_uri.returncode == 2 and "not an S3 URI" in bad_uri.stderr
    assert not (tmp_path / "case").exists()  # nothing was created for a command that cannot run


def test_files_that_cannot_be_read_are_named_and_the_rest_is_ingested(cli, tmp_path):
    import os

    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copyfile(SOURCES / "vpc_flow/samples/vpc_flow/default_v2.log", folder / "flows.log")
    os.mkfifo(folder / "pipe")
    result = cli("ingest", str(folder), "--case", str(tmp_path / "case"))
    assert result.returncode == 0, result.stderr
    assert "pipe: not a regular file: not read" in result.stderr
    assert "1 new file(s)" in result.stderr
    [row] = query(cli, tmp_path / "case", "SELECT count(*) AS n FROM vpc_flow")
    assert row["n"] > 0


def test_json_columns_are_json_and_common_columns_keep_their_type(cli, tmp_path):
    """GuardDuty's ``resource`` object is the ``finding_resource`` JSON column; the common
    ``resource`` column stays text (the views type JSON columns from the source definitions)."""
    folder = tmp_path / "gd"
    for sample in (SOURCES / "guardduty" / "samples").rglob("*.jsonl"):
        if not sample.name.endswith(".expected.jsonl"):
            folder.mkdir(exist_ok=True)
            shutil.copyfile(sample, folder / sample.name)
    case = tmp_path / "case"
    assert cli("ingest", str(folder), "--case", str(case)).returncode == 0
    [row] = query(cli, case, "SELECT count(*) AS n, count(resource) AS r, "
                  "count(json_extract_string(finding_resource, '$.resourceType')) AS t "
                  "FROM guardduty")  # fmt: skip
    assert row["n"] == row["t"] > 0 and row["r"] > 0
    types = dict(
        (r["column_name"], r["column_type"]) for r in query(cli, case, "DESCRIBE guardduty")
    )
    assert types["finding_resource"] == "JSON" and types["resource"] == "VARCHAR"
    [events] = query(cli, case, "SELECT count(resource) AS r FROM events")
    assert events["r"] == row["r"]


def test_a_lake_file_gone_is_one_line_not_a_traceback(cli, reference, tmp_path):
    case = tmp_path / "case"
    shutil.copytree(reference["case"], case)
    next((case / "lake").rglob("*.parquet")).unlink()
    result = cli("pivot", "203.0.113.9", "--case", str(case))
    assert result.returncode == 1 and "error: reading the case" in result.stderr
    assert "Traceback" not in result.stderr and "│" not in result.stderr
