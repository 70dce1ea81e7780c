"""``awsir collect`` end to end: the emulated account in a local moto server, with log files
planted in AWS's key layouts over three days and CloudWatch Logs events; a collection of a
four-hour window must fetch exactly what the window needs, keep a chain of custody, resume,
verify, and ingest."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from awsir.aws.calls import READ_ONLY
from tests.conftest import REPO, emulated_account

SOURCES = REPO / "src" / "awsir" / "sources"

DAY = (datetime.now(UTC) - timedelta(days=2)).date()  # CloudWatch Logs refuses old events
WINDOW = ("--from", f"{DAY}T08:00:00Z", "--to", f"{DAY}T12:00:00Z")
REGIONS = ("--regions", "us-east-1,eu-west-1")
# the sources kept in S3 and CloudWatch Logs (moto serves neither LookupEvents nor GuardDuty
# findings: those have their own tests)
FILES = ("--sources", "cloudtrail_trail", "--sources", "vpc_flow", "--sources", "cloudwatch_logs")


@pytest.fixture(scope="module")
def account():
    from awsir import emulated

    with emulated_account() as (env, built):
        yield env, built, emulated.plant_logs(built, DAY)


def manifest(case: Path) -> list[dict]:
    """The items of the manifest (the API responses they were built from left out)."""
    return [e for e in everything(case) if e["kind"] != "api_response"]


def everything(case: Path) -> list[dict]:
    text = (case / "evidence" / "manifest.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def in_window(planted: dict) -> set[str]:
    """The planted objects a collection of the window must bring: written on DAY at 09:05
    and 11:55 (23:50 is past the window plus the delivery delay; other days are out)."""
    stamps = (f"{DAY:%Y%m%d}T0905Z", f"{DAY:%Y%m%d}T1155Z")
    return {
        uri
        for uri in planted["s3"]
        if any(s in uri for s in stamps) and "://aws-waf-logs-" not in uri  # WAF: its own test
    }


@pytest.fixture(scope="module")
def collected(account, cli, tmp_path_factory):
    env, _, _ = account
    case = tmp_path_factory.mktemp("collect") / "case"
    result = cli("collect", "--case", str(case), *WINDOW, *REGIONS, *FILES, env=env)
    assert result.returncode == 0, result.stderr
    return case, result


def test_only_the_window_is_fetched_as_received(account, collected):
    import boto3

    _, _, planted = account
    case, result = collected
    entries = manifest(case)
    s3 = {e["uri"] for e in entries if e["kind"] == "s3"}
    assert s3 == in_window(planted) and len(s3) == 6  # 2 CloudTrail Regions x 2, flow logs x 2
    client = boto3.client("s3")
    for entry in (e for e in entries if e["kind"] == "s3"):
        path = case / entry["path"]
        bucket, key = entry["uri"][5:].split("/", 1)
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert path.read_bytes() == body and entry["size"] == len(body)
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        assert entry["sha256"] and entry["etag"] and entry["caller"].startswith("arn:aws:")
        assert entry["retrieved_at"].startswith(str(datetime.now(UTC).year))
    assert "collected 8 item(s)" in result.stdout and not list(case.rglob("*.part"))


def test_cloudwatch_events_of_the_window_keep_group_and_stream(collected):
    case, _ = collected
    [orders] = [e for e in manifest(case) if e["uri"].startswith("cloudwatch-logs://")
                and "/aws/lambda/orders" in e["uri"]]  # fmt: skip
    assert orders["events"] == 1 and orders["region"] == "eu-west-1"
    [message] = [json.loads(line) for line in (case / orders["path"]).read_text().splitlines()]
    assert message["messageType"] == "DATA_MESSAGE" and message["logGroup"] == "/aws/lambda/orders"
    assert message["logStream"] == "2024/orders/1"
    assert [e["message"] for e in message["logEvents"]] == [
        "START RequestId: 09-req Version: $LATEST at 09:00"
    ]


def test_a_report_says_what_was_collected(collected):
    case, _ = collected
    [report] = (case / "evidence" / "reports").glob("collect-*.json")
    data = json.loads(report.read_text())
    assert data["fetched"] == 8 and data["by_source"]["cloudtrail_trail"]["items"] == 4
    assert data["problems"] == [] and data["caller"].startswith("arn:aws:")
    assert (report.with_suffix(".md")).read_text().startswith("# Evidence collection")


def test_what_cannot_be_collected_is_named_and_the_rest_is_kept(account, cli, tmp_path):
    """moto implements neither GuardDuty findings nor LookupEvents: both are named, with
    a one-line reason, in the output and the report; the files are still collected (exit 1)."""
    env, _, _ = account
    case = tmp_path / "case"
    result = cli("collect", "--case", str(case), *WINDOW, *REGIONS, env=env)
    # 8 files + 4 digests + 4 WAF objects + Security Hub findings
    assert result.returncode == 1 and "collected 17 item(s)" in result.stdout
    assert "could not collect: guardduty-findings://" in result.stderr
    assert "could not collect: cloudtrail-lookup-events://" in result.stderr
    assert "<html" not in result.stderr and "Traceback" not in result.stderr
    [report] = (case / "evidence" / "reports").glob("collect-*.json")
    problems = json.loads(report.read_text())["problems"]
    assert any(p.startswith("guardduty-findings://") and "HTTP 404" in p for p in problems)


def test_a_second_run_adds_nothing_and_an_interrupted_one_resumes(account, collected, cli):
    env, _, _ = account
    case, _ = collected
    again = cli("collect", "--case", str(case), *WINDOW, *REGIONS, *FILES, env=env)
    assert again.returncode == 0 and "collected 0 item(s)" in again.stdout
    assert "(8 already there;" in again.stdout
    # an interruption: two files never finished (a .part left, no manifest line)
    entries = manifest(case)
    lost = entries[-2:]
    for entry in lost:
        path = case / entry["path"]
        path.unlink()
        path.with_name(path.name + ".part").write_bytes(b"half")
    (case / "evidence" / "manifest.jsonl").write_text(
        "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries[:-2])
    )
    resumed = cli("collect", "--case", str(case), *WINDOW, *REGIONS, *FILES, env=env)
    assert resumed.returncode == 0 and "collected 2 item(s)" in resumed.stdout
    assert {e["uri"] for e in manifest(case)} == {e["uri"] for e in entries}
    assert not list(case.rglob("*.part"))  # the half-written files were replaced, whole


def test_verify_names_a_changed_and_a_missing_file(account, cli, tmp_path):
    env, _, _ = account
    case = tmp_path / "case"
    assert cli("collect", "--case", str(case), *WINDOW, *REGIONS, *FILES, env=env).returncode == 0
    clean = cli("collect", "--case", str(case), "--verify")
    # 8 items and the 2 FilterLogEvents responses they were built from
    assert clean.returncode == 0 and "10 item(s) checked, 0 changed, 0 missing" in clean.stdout
    entries = manifest(case)
    tampered, gone = case / entries[0]["path"], case / entries[1]["path"]
    tampered.chmod(0o644)
    tampered.write_bytes(tampered.read_bytes() + b"x")
    gone.unlink()
    found = cli("collect", "--case", str(case), "--verify")
    assert found.returncode == 1
    assert f"CHANGED  {entries[0]['path']}" in found.stdout
    assert f"MISSING  {entries[1]['path']}" in found.stdout
    # the dashboard's Collection page says the same, and what the collection report holds
    from starlette.testclient import TestClient

    from awsir.web.app import create_app

    page = TestClient(create_app(case, tmp_path / "no-history"))
    shown = page.get("/collection.json", params={"verify": "1"}).json()
    assert shown["verified"] == {"checked": 10, "changed": [entries[0]["path"]],
                                 "missing": [entries[1]["path"]]}  # fmt: skip
    [report] = shown["reports"]
    assert report["fetched"] == 8 and report["raw_responses"] == 2  # items, and their responses
    html = page.get("/collection", params={"verify": "1"}).text
    assert "10 item(s) checked: 1 changed, 1 missing." in html


def test_collect_then_ingest_from_a_saved_location_map(account, cli, tmp_path):
    env, _, _ = account
    where = tmp_path / "locations.json"
    scan = cli("scan", *REGIONS, "--no-keep", "--locations-out", str(where), "--json", env=env)
    assert scan.returncode == 0, scan.stderr
    case = tmp_path / "case"
    result = cli("collect", "--case", str(case), *WINDOW, *REGIONS, "--locations", str(where),
                 "--sources", "cloudtrail_trail", "--ingest", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "taking the inventory" not in result.stderr
    assert {x["source"] for x in manifest(case)} == {"cloudtrail_trail"}
    counted = cli("query", "SELECT count(*) AS n, count(DISTINCT awsRegion) AS r FROM cloudtrail",
                  "--case", str(case), "--format", "json")  # fmt: skip
    assert json.loads(counted.stdout) == {"n": 4, "r": 2}


def test_collection_makes_read_only_calls_only(account, tmp_path):
    import boto3

    from awsir.collect.run import Signer, collect
    from awsir.collect.windows import Window, parse_time
    from awsir.readiness.locations import Location

    _, e, _ = account
    sent: list[str] = []
    session = boto3.Session(region_name="us-east-1")
    session.events.register("before-call", lambda model, **_: sent.append(model.name))
    found = [
        Location("cloudtrail_trail", e.account, "us-east-1", "s3", e.trail_arn,
                 bucket=e.trail_bucket, prefix=f"AWSLogs/{e.account}/CloudTrail/"),
        Location("cloudwatch_logs", e.account, "eu-west-1", "cloudwatch_logs", "orders",
                 log_group="/aws/lambda/orders"),
    ]  # fmt: skip
    window = Window(parse_time(WINDOW[1]), parse_time(WINDOW[3]))
    result = collect([Signer(e.account, session, "test")], tmp_path, found, window,
                     {e.account: ["us-east-1"]})  # fmt: skip
    assert len(result.fetched) == 3 and not result.problems
    assert sent and [op for op in sent if not READ_ONLY.match(op)] == []


def test_a_window_must_be_given(cli, tmp_path):
    result = cli("collect", "--case", str(tmp_path / "c"))
    assert result.returncode == 2 and "--from and --to" in result.stderr
    backwards = cli("collect", "--case", str(tmp_path / "c"), "--from", "2024-05-14T12:00Z",
                    "--to", "2024-05-14T08:00Z")  # fmt: skip
    assert backwards.returncode == 2 and "ends before it starts" in backwards.stderr


class StandIn:
    """A local HTTP stand-in for an AWS API moto does not implement, on 127.0.0.1: each POST's
    JSON body goes to :meth:`reply` with the request's path and ``X-Amz-Target`` header, and its
    answer is sent back as JSON."""

    content_type = "application/json"

    def __init__(self) -> None:
        import http.server
        import threading

        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                answer = stand_in.reply(self.path, self.headers.get("X-Amz-Target", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", stand_in.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def reply(self, path: str, target: str, body: dict) -> dict:
        raise NotImplementedError


def paged(items: list, body: dict, key: str, token: str) -> dict:
    """``items`` two at a time, the next page's index as the token."""
    first = int(body.get(token) or 0)
    answer: dict = {key: items[first : first + 2]}
    if first + 2 < len(items):
        answer[token] = str(first + 2)
    return answer


class LookupEventsStandIn(StandIn):
    """CloudTrail's LookupEvents and ListPublicKeys (JSON protocol): pages by 2 events, and
    records when each call came."""

    content_type = "application/x-amz-json-1.1"

    def __init__(self, events: list[dict], keys: list[dict] | None = None) -> None:
        self.events, self.keys, self.calls = events, keys or [], []
        super().__init__()

    def reply(self, path: str, target: str, body: dict) -> dict:
        import time

        self.calls.append((time.monotonic(), target))
        if target.endswith("ListPublicKeys"):
            return {"PublicKeyList": self.keys}
        start, end = body.get("StartTime", 0), body.get("EndTime", 1e12)
        inside = [e for e in self.events if start <= e["EventTime"] <= end]
        return paged(inside, body, "Events", "NextToken")


def test_event_history_is_collected_at_two_requests_a_second(account, cli, tmp_path):
    """No trail needed: LookupEvents is the fallback evidence of every account."""
    env, e, _ = account
    base = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    events = []
    for k, hour in enumerate((7, 9, 9, 10, 10, 11, 13)):
        when = base + timedelta(hours=hour, minutes=k)
        record = {"eventVersion": "1.09", "eventTime": f"{when:%Y-%m-%dT%H:%M:%SZ}",
                  "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
                  "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
                  "userIdentity": {"type": "IAMUser",
                                   "arn": f"arn:aws:iam::{e.account}:user/eve"},
                  "eventID": f"lookup-{k}", "recipientAccountId": e.account}  # fmt: skip
        events.append({"EventId": f"lookup-{k}", "EventName": "CreateAccessKey",
                       "EventTime": when.timestamp(),
                       "CloudTrailEvent": json.dumps(record)})  # fmt: skip
    stand_in = LookupEventsStandIn(events)
    case = tmp_path / "case"
    try:
        result = cli("collect", "--case", str(case), *WINDOW, "--regions", "us-east-1",
                     "--sources", "cloudtrail_event_history", "--ingest",
                     env={**env, "AWS_ENDPOINT_URL_CLOUDTRAIL": stand_in.url})  # fmt: skip
    finally:
        stand_in.server.shutdown()
    assert result.returncode == 0, result.stderr
    [entry] = manifest(case)
    assert entry["events"] == 5 and entry["uri"].startswith("cloudtrail-lookup-events://")
    times = [t for t, target in stand_in.calls if target.endswith("LookupEvents")]
    assert len(times) == 3  # 5 events, 2 per page
    # each HTTP response is kept byte for byte, hashed, and named by the file built from it
    responses = [e for e in everything(case) if e["kind"] == "api_response"]
    assert [r["path"] for r in responses] == entry["responses"] and len(responses) == 3
    pages = [json.loads((case / r["path"]).read_bytes()) for r in responses]
    assert [len(p["Events"]) for p in pages] == [2, 2, 1] and "NextToken" in pages[0]
    for r in responses:
        assert hashlib.sha256((case / r["path"]).read_bytes()).hexdigest() == r["sha256"]
        assert r["operation"] == "LookupEvents" and r["caller"] == entry["caller"]
    assert all(b - a >= 0.45 for a, b in itertools.pairwise(times))  # 2 per second
    sql = "SELECT count(*) AS n FROM cloudtrail WHERE eventName = 'CreateAccessKey'"
    counted = cli("query", sql, "--case", str(case), "--format", "json")
    assert json.loads(counted.stdout) == {"n": 5}


def test_cloudtrail_files_are_validated_against_their_digests(account, cli, tmp_path):
    """Digests planted as CloudTrail writes them (signed, chained); the public key served by a
    ListPublicKeys stand-in. Then a log file is altered and another is lost."""
    import base64
    import gzip

    env, _, planted = account
    fingerprint, der = planted["public_key"][0].split(":")
    key = {"Fingerprint": fingerprint, "Value": base64.b64encode(bytes.fromhex(der)).decode(),
           "ValidityStartTime": 0, "ValidityEndTime": 4102444800}  # fmt: skip
    case = tmp_path / "case"
    sources = ("--sources", "cloudtrail_trail", "--sources", "cloudtrail_digest")
    assert cli("collect", "--case", str(case), *WINDOW, *REGIONS, *sources, env=env).returncode == 0
    assert sum(e["source"] == "cloudtrail_digest" for e in manifest(case)) == 4
    stand_in = LookupEventsStandIn([], [key])
    validate = ("collect", "--case", str(case), "--validate-trail")
    try:
        clean = cli(*validate, env={**env, "AWS_ENDPOINT_URL_CLOUDTRAIL": stand_in.url})
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "digests: 4 valid; logs: 4 valid; chain: 0 broken" in clean.stdout
        logs = [e for e in manifest(case) if e["source"] == "cloudtrail_trail"]
        altered, lost = case / logs[0]["path"], case / logs[1]["path"]
        altered.chmod(0o644)
        altered.write_bytes(
            gzip.compress(gzip.decompress(altered.read_bytes()).replace(b"alice", b"bob"))
        )
        lost.unlink()
        found = cli(*validate, env={**env, "AWS_ENDPOINT_URL_CLOUDTRAIL": stand_in.url})
        assert found.returncode == 1
        assert f"LOG    ALTERED       {logs[0]['uri']}" in found.stdout
        assert f"LOG    MISSING       {logs[1]['uri']}" in found.stdout
        stand_in.keys.clear()  # no public key for the fingerprint: signatures cannot be checked
        unverified = cli(*validate, env={**env, "AWS_ENDPOINT_URL_CLOUDTRAIL": stand_in.url})
        assert unverified.returncode == 1 and "4 unverifiable" in unverified.stdout
    finally:
        stand_in.server.shutdown()


def test_config_history_of_a_named_resource(account, cli, tmp_path):
    env, e, _ = account
    case = tmp_path / "case"
    result = cli("collect", "--case", str(case), *WINDOW, "--regions", "us-east-1",
                 "--sources", "none", "--resource", f"AWS::S3::Bucket={e.data_bucket}",
                 env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    [entry] = manifest(case)
    assert entry["uri"].startswith(f"config-history://{e.account}/us-east-1/AWS::S3::Bucket/")
    items = json.loads((case / entry["path"]).read_text())["configurationItems"]
    assert entry["events"] == len(items) >= 1 and items[0]["resourceId"] == e.data_bucket
    bad = cli("collect", "--case", str(case), *WINDOW, "--resource", "sg-123", env=env)
    assert bad.returncode == 2 and "TYPE=ID" in bad.stderr


def test_a_hostile_key_cannot_place_evidence_outside_the_case(account, cli, tmp_path):
    """S3 keys are chosen by whoever can write to the bucket: ``../`` must not escape."""
    import boto3

    env, e, _ = account
    day = f"AWSLogs/{e.account}/CloudTrail/us-east-1/{DAY:%Y/%m/%d}/"
    name = f"escaped_CloudTrail_{DAY:%Y%m%d}T0905Z.json.gz"
    key = day + "../" * 11 + name  # from case/evidence/s3/<bucket>/... up to tmp_path
    boto3.client("s3").put_object(Bucket=e.trail_bucket, Key=key, Body=b"{}")
    try:
        case = tmp_path / "case"
        result = cli("collect", "--case", str(case), *WINDOW, "--regions", "us-east-1",
                     "--sources", "cloudtrail_trail", env=env)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert not (tmp_path / name).exists()
        [hostile] = [x for x in manifest(case) if x["uri"].endswith(name)]
        assert hostile["uri"] == f"s3://{e.trail_bucket}/{key}"  # the true key, in the manifest
        stored = (case / hostile["path"]).resolve()
        assert stored.is_relative_to(case.resolve()) and "%2E%2E" in hostile["path"]
    finally:
        boto3.client("s3").delete_object(Bucket=e.trail_bucket, Key=key)


def test_waf_logs_are_collected_from_s3_and_through_firehose(account, cli, tmp_path):
    """The scan finds both web ACLs' logs: one in WAF's own S3 layout, one in the bucket a
    Firehose stream writes to (``waf/YYYY/MM/DD/HH/``); only the window's objects come back."""
    env, e, planted = account
    case = tmp_path / "case"
    result = cli("collect", "--case", str(case), *WINDOW, *REGIONS, "--sources", "waf", env=env)
    assert result.returncode == 0, result.stderr
    stamps = (f"{DAY:%Y%m%d}T0905Z", f"{DAY:%Y%m%d}T1155Z", f"{DAY}-09-05-00", f"{DAY}-11-55-00")
    waf = {u for u in planted["s3"] if u.startswith(f"s3://{e.waf_bucket}/")}
    wanted = {u for u in waf if any(s in u for s in stamps)}
    assert len(wanted) == 4 and len(waf) == 18
    assert {m["uri"] for m in manifest(case)} == wanted
    assert any("/WAFLogs/" in u for u in wanted) and any("/waf/" in u for u in wanted)
    ingested = cli("ingest", str(case / "evidence" / "s3"), "--case", str(case))
    assert ingested.returncode == 0, ingested.stderr
    counted = cli("query", "SELECT count(*) AS n FROM waf", "--case", str(case), "--format", "json")
    assert json.loads(counted.stdout) == {"n": 4}


def test_security_hub_findings_are_collected_with_the_responses_as_received(account, cli, tmp_path):
    env, e, _ = account
    case = tmp_path / "case"
    result = cli("collect", "--case", str(case), *WINDOW, "--regions", "us-east-1",
                 "--sources", "securityhub", "--ingest", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    [entry] = manifest(case)
    assert entry["uri"].startswith(f"securityhub-findings://{e.account}/us-east-1/")
    saved = json.loads((case / entry["path"]).read_text())["Findings"]
    in_window = {f"awsir-emulated/{DAY:%Y%m%d}T0905", f"awsir-emulated/{DAY:%Y%m%d}T1155"}
    # the window goes to Security Hub as an UpdatedAt filter; moto ignores filters, so all
    # planted findings come back here, and they are kept as AWS sent them
    assert in_window <= {f["Id"] for f in saved}
    [response] = [x for x in everything(case) if x["kind"] == "api_response"]
    body = json.loads((case / response["path"]).read_bytes())
    assert [f["Id"] for f in body["Findings"]] == [f["Id"] for f in saved]
    held = cli("query", "SELECT count(*) AS n FROM securityhub", "--case", str(case),
               "--format", "json")  # fmt: skip
    assert json.loads(held.stdout) == {"n": len(saved)}
    # a changed response is caught like any other evidence file
    raw = case / response["path"]
    raw.chmod(0o644)
    raw.write_bytes(raw.read_bytes().replace(b"HIGH", b"LOW!"))
    verified = cli("collect", "--case", str(case), "--verify")
    assert verified.returncode == 1 and f"CHANGED  {response['path']}" in verified.stdout


def test_guardduty_exports_are_collected_from_their_date_folders(account, cli, tmp_path):
    """GuardDuty's S3 export (moto has no publishing destinations, so the location comes from a
    saved map): ``AWSLogs/<account>/GuardDuty/<Region>/YYYY/MM/DD/<uuid>.jsonl.gz``."""
    import gzip

    import boto3

    env, e, _ = account
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=env["AWS_ENDPOINT_URL"])
    finding = (SOURCES / "guardduty" / "samples").rglob("*.jsonl")
    line = next(p for p in finding).read_text().splitlines()[0]
    keys = []
    for offset in (-1, 0, 1):
        d = DAY + timedelta(days=offset)
        key = (
            f"exports/AWSLogs/{e.account}/GuardDuty/us-east-1/{d:%Y/%m/%d}/{offset + 1}a2b.jsonl.gz"
        )
        s3.put_object(Bucket=e.data_bucket, Key=key, Body=gzip.compress((line + "\n").encode()))
        keys.append(key)
    where = tmp_path / "where.json"
    where.write_text(json.dumps({"locations": [{
        "source": "guardduty", "account": e.account, "region": "us-east-1", "kind": "s3",
        "producer": "detector", "bucket": e.data_bucket,
        "prefix": f"exports/AWSLogs/{e.account}/GuardDuty/us-east-1/"}]}))  # fmt: skip
    case = tmp_path / "case"
    result = cli("collect", "--case", str(case), *WINDOW, "--regions", "us-east-1",
                 "--locations", str(where), env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [m["uri"] for m in manifest(case)] == [f"s3://{e.data_bucket}/{keys[1]}"]


def test_org_role_collects_each_account_with_its_own_role(account, cli, tmp_path):
    """An organization in moto: the member's trail bucket is read with the role assumed in the
    member account; a location of an account outside the organization is read with the
    account signed in to. The manifest names who read each item. (moto does not enforce
    permissions, so the fall back after AccessDenied is checked on its order only, below.)"""
    import gzip

    import boto3

    env, e, _ = account
    endpoint = env["AWS_ENDPOINT_URL"]
    orgs = boto3.client("organizations", region_name="us-east-1", endpoint_url=endpoint)
    with contextlib.suppress(orgs.exceptions.AlreadyInOrganizationException):
        orgs.create_organization(FeatureSet="ALL")
    created = orgs.create_account(Email="member@example.com", AccountName="member")
    member = created["CreateAccountStatus"]["AccountId"]
    role = "OrganizationAccountAccessRole"
    creds = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint).assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/{role}", RoleSessionName="setup"
    )["Credentials"]
    s3m = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint,
                       aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])  # fmt: skip
    bucket = f"member-trail-{member}"
    s3m.create_bucket(Bucket=bucket)
    name = f"{member}_CloudTrail_us-east-1_{DAY:%Y%m%d}T0905Z_m.json.gz"
    key = f"AWSLogs/{member}/CloudTrail/us-east-1/{DAY:%Y/%m/%d}/{name}"
    s3m.put_object(Bucket=bucket, Key=key, Body=gzip.compress(b'{"Records": []}'))
    central = f"AWSLogs/{member}/CloudTrail/us-east-1/{DAY:%Y/%m/%d}/{name}"
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    s3.put_object(Bucket=e.trail_bucket, Key=central, Body=gzip.compress(b'{"Records": []}'))
    trail = {"source": "cloudtrail_trail", "region": "us-east-1", "kind": "s3", "producer": "t"}
    where = tmp_path / "where.json"
    where.write_text(json.dumps({"locations": [
        {**trail, "account": member, "bucket": bucket, "prefix": f"AWSLogs/{member}/CloudTrail/"},
        {**trail, "account": "999999999999", "bucket": e.trail_bucket,
         "prefix": f"AWSLogs/{member}/CloudTrail/"},
    ]}))  # fmt: skip
    case = tmp_path / "case"
    result = cli("collect", "--case", str(case), *WINDOW, "--regions", "us-east-1",
                 "--locations", str(where), "--org-role", role, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    callers = {m["uri"]: m["caller"] for m in manifest(case)}
    assert callers[f"s3://{bucket}/{key}"].startswith(f"arn:aws:sts::{member}:assumed-role/{role}/")
    assert f":{e.account}:" in callers[f"s3://{e.trail_bucket}/{central}"]
    report = json.loads(next((case / "evidence" / "reports").glob("*.json")).read_text())
    assert set(report["callers"]) >= {member, e.account}


def test_a_bucket_is_tried_with_its_own_account_first_then_the_others():
    from awsir.collect.run import DENIED, Signer, _candidates

    me, a, b = (Signer(x, None, f"arn:{x}") for x in ("111", "222", "333"))
    assert [s.account for s in _candidates([me, a, b], "333")] == ["333", "111", "222"]
    assert [s.account for s in _candidates([me, a, b], "999")] == ["111", "222", "333"]
    assert "AccessDenied" in DENIED


class GuardDutyStandIn(StandIn):
    """GuardDuty's ListFindings and GetFindings (REST-JSON): filters by the updatedAt
    criterion it is sent, and pages finding ids by 2."""

    def __init__(self, findings: list[dict]) -> None:
        self.findings, self.paths = findings, []
        super().__init__()

    def reply(self, path: str, target: str, body: dict) -> dict:
        self.paths.append(path)
        if path.endswith("/findings/get"):
            wanted = set(body["findingIds"])
            return {"findings": [f for f in self.findings if f["id"] in wanted]}
        updated = body["findingCriteria"]["criterion"]["updatedAt"]
        low, high = updated["greaterThanOrEqual"], updated["lessThanOrEqual"]

        def ms(finding: dict) -> float:
            return datetime.fromisoformat(finding["updatedAt"]).timestamp() * 1000

        ids = [f["id"] for f in self.findings if low <= ms(f) <= high]
        return paged(ids, body, "findingIds", "nextToken")


def test_guardduty_findings_of_the_window_through_the_api(account, cli, tmp_path):
    """ListFindings with the window as an updatedAt criterion, then GetFindings; the findings
    are saved, every response kept as received, and ingested into the guardduty table."""
    env, e, _ = account
    base = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    findings = []
    for k, hour in enumerate((6, 9, 10, 11, 15)):
        when = f"{base + timedelta(hours=hour):%Y-%m-%dT%H:%M:%S}.000Z"
        findings.append({
            "accountId": e.account, "arn": f"arn:aws:guardduty:us-east-1:{e.account}:detector/"
            f"d1/finding/f{k}", "createdAt": when, "updatedAt": when, "id": f"f{k}",
            "partition": "aws", "region": "us-east-1", "schemaVersion": "2.0",
            "severity": 8.0, "title": "Credentials used from an unusual place",
            "type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
            "description": "keys of i-0abc used from 203.0.113.7",
            "resource": {"resourceType": "AccessKey"},
            "service": {"serviceName": "guardduty", "detectorId": "d1", "count": 1},
        })  # fmt: skip
    stand_in = GuardDutyStandIn(findings)
    where = tmp_path / "where.json"
    where.write_text(json.dumps({"locations": [{
        "source": "guardduty", "account": e.account, "region": "us-east-1", "kind": "api",
        "producer": "d1", "api": "guardduty:GetFindings"}]}))  # fmt: skip
    case = tmp_path / "case"
    try:
        result = cli("collect", "--case", str(case), *WINDOW, "--regions", "us-east-1",
                     "--locations", str(where), "--ingest",
                     env={**env, "AWS_ENDPOINT_URL_GUARDDUTY": stand_in.url})  # fmt: skip
    finally:
        stand_in.server.shutdown()
    assert result.returncode == 0, result.stderr
    [entry] = manifest(case)
    assert entry["events"] == 3  # 09:00, 10:00 and 11:00: inside 08:00-12:00
    saved = json.loads((case / entry["path"]).read_text())["Findings"]
    assert sorted(f["Id"] for f in saved) == ["f1", "f2", "f3"]
    responses = [x for x in everything(case) if x["kind"] == "api_response"]
    assert [r["operation"] for r in responses] == ["ListFindings", "ListFindings", "GetFindings"]
    assert json.loads((case / responses[-1]["path"]).read_bytes())["findings"][0]["id"] == "f1"
    assert stand_in.paths == ["/detector/d1/findings"] * 2 + ["/detector/d1/findings/get"]
    held = cli("query", "SELECT id FROM guardduty ORDER BY id", "--case", str(case),
               "--format", "json")  # fmt: skip
    assert [json.loads(x)["id"] for x in held.stdout.splitlines()] == ["f1", "f2", "f3"]


def test_an_assumed_role_renews_its_credentials(account):
    """A collection can outlast STS's one-hour default: the assumed role's credentials are
    botocore's refreshable kind, renewed by AssumeRole before they expire."""
    import boto3
    from botocore.credentials import RefreshableCredentials

    from awsir.aws.session import assume

    _, e, _ = account
    assumed = assume(boto3.Session(region_name="us-east-1"), f"arn:aws:iam::{e.account}:role/ir")
    credentials = assumed.get_credentials()
    assert isinstance(credentials, RefreshableCredentials) and credentials.method == "assume-role"
    assert not credentials.refresh_needed()
    who = assumed.client("sts").get_caller_identity()["Arn"]
    assert who == f"arn:aws:sts::{e.account}:assumed-role/ir/awsir"
