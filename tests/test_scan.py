"""``awsir scan`` end to end: the emulated two-Region account (``awsir.emulated``) built in a
local moto server over HTTP, scanned by the real CLI in a subprocess; every planted gap and
every good setting must get its verdict, and a call the endpoint cannot answer must come out
``unknown``, never ``pass``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from awsir.aws.calls import CALLS, READ_ONLY
from tests.conftest import emulated_account

REQUIRED = ("check", "title", "source", "status", "severity", "resource", "region", "account",
            "reason")  # fmt: skip


@pytest.fixture(scope="module")
def account():
    with emulated_account() as (env, built):
        yield env, built


@pytest.fixture(scope="module")
def scanned(account, cli, tmp_path_factory):
    env, built = account
    snapshot = tmp_path_factory.mktemp("scan") / "snapshot.json"
    history = snapshot.parent / "history"
    result = cli("scan", "--regions", "us-east-1,eu-west-1", "--json", "--snapshot-out",
                 str(snapshot), "--history", str(history), env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    return built, findings, snapshot


def verdict(findings: list[dict], check: str, region: str, resource: str | None = None) -> str:
    mine = [f for f in findings if f["check"] == check and f["region"] == region
            and (resource is None or f["resource"] == resource)]  # fmt: skip
    assert len(mine) == 1, f"{check} {region} {resource}: {mine}"
    return mine[0]["status"]


def test_every_planted_gap_and_good_setting_gets_its_verdict(scanned):
    e, findings, _ = scanned
    assert all(all(k in f for k in REQUIRED) for f in findings)
    assert {f["account"] for f in findings} == {e.account}
    assert verdict(findings, "trail_covers_every_region", "us-east-1") == "pass"
    assert verdict(findings, "trail_covers_every_region", "eu-west-1") == "pass"  # multi-Region
    assert verdict(findings, "trail_log_file_validation", "us-east-1", e.trail_arn) == "pass"
    assert verdict(findings, "trail_delivery_health", "us-east-1", e.trail_arn) == "pass"
    assert verdict(findings, "trail_kms_encryption", "us-east-1", e.trail_arn) == "fail"
    assert verdict(findings, "trail_cloudwatch_logs", "us-east-1", e.trail_arn) == "fail"
    assert verdict(findings, "trail_bucket_protection", "us-east-1", e.trail_bucket) == "fail"
    assert verdict(findings, "vpc_flow_logs", "us-east-1", e.prod_vpc) == "pass"
    assert verdict(findings, "vpc_flow_logs", "us-east-1", e.default_vpc) == "fail"
    assert verdict(findings, "vpc_flow_logs", "eu-west-1", e.eu_vpc) == "fail"
    assert verdict(findings, "vpc_flow_log_fields", "us-east-1") == "fail"  # default format
    assert verdict(findings, "resolver_query_logging", "us-east-1", e.prod_vpc) == "pass"
    assert verdict(findings, "resolver_query_logging", "us-east-1", e.default_vpc) == "fail"
    assert verdict(findings, "s3_access_logging", "global", e.trail_bucket) == "pass"
    assert verdict(findings, "s3_access_logging", "global", e.data_bucket) == "fail"
    assert verdict(findings, "guardduty_enabled", "us-east-1") == "pass"
    assert verdict(findings, "guardduty_enabled", "eu-west-1") == "fail"
    assert verdict(findings, "config_recording", "us-east-1") == "pass"
    assert verdict(findings, "config_recording", "eu-west-1") == "fail"
    assert verdict(findings, "log_group_retention", "eu-west-1", "/aws/lambda/orders") == "fail"
    assert verdict(findings, "log_group_retention", "us-east-1", "/aws/eks/prod/cluster") == "pass"
    assert verdict(findings, "load_balancer_access_logs", "us-east-1", e.alb_arn) == "fail"
    assert verdict(findings, "trail_s3_data_events", "global", e.data_bucket) == "fail"
    data_events = {f["resource"] for f in findings if f["check"] == "trail_s3_data_events"}
    assert data_events == {e.data_bucket}  # the log buckets are not data buckets
    bucket = next(f for f in findings if f["check"] == "trail_bucket_protection")
    assert "30 days" in bucket["reason"] and e.trail_bucket in bucket["fix"]


def test_a_call_the_endpoint_cannot_answer_is_unknown_with_its_reason(scanned):
    _, findings, _ = scanned
    # nor iam:SimulatePrincipalPolicy: whether the function's role may write logs is unknown
    assert verdict(findings, "lambda_can_write_logs", "us-east-1", "orders") == "unknown"
    # moto does not implement IAM Access Analyzer: the check must not guess
    analyzer = [f for f in findings if f["check"] == "access_analyzer_enabled"]
    assert analyzer and {f["status"] for f in analyzer} == {"unknown"}
    assert all("HTTP 500" in f["reason"] for f in analyzer)


def test_checks_rerun_offline_from_the_snapshot(scanned, cli, tmp_path):
    _, findings, snapshot = scanned
    nowhere = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true"}
    offline = cli("scan", "--from-snapshot", str(snapshot), "--json", "--no-keep", env=nowhere)
    assert offline.returncode == 0, offline.stderr
    again = [json.loads(line) for line in offline.stdout.splitlines()]
    assert again == findings
    text = cli("scan", "--from-snapshot", str(snapshot), "--no-keep")
    assert text.returncode == 0 and "Readiness score:" in text.stdout
    assert "vpc_flow_logs" in text.stdout and "no flow log" in text.stdout
    # the incident questions: prod's flows are logged, the default VPC's are not
    assert "Incident questions" in text.stdout and "By Region: eu-west-1 " in text.stdout
    network = next(x for x in text.stdout.splitlines() if "each VPC talk to" in x)
    assert "partly" in network
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    refused = cli("scan", "--from-snapshot", str(bad), "--no-keep")
    assert refused.returncode == 2 and "cannot read the snapshot" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_fail_under_turns_the_score_into_an_exit_code(scanned, cli):
    _, _, snapshot = scanned
    low = cli("scan", "--from-snapshot", str(snapshot), "--fail-under", "95", "--no-keep")
    assert low.returncode == 1 and "below --fail-under 95" in low.stderr
    high = cli("scan", "--from-snapshot", str(snapshot), "--fail-under", "1", "--no-keep")
    assert high.returncode == 0


def test_the_scan_makes_read_only_calls_only(account):
    """Every operation the inventory and the evidence access simulation send, recorded on the
    wire by botocore's event hooks."""
    import boto3

    from awsir.readiness.scan import collect_accounts

    _, built = account
    sent: list[str] = []
    session = boto3.Session(region_name="us-east-1")
    session.events.register("before-call", lambda model, **_: sent.append(model.name))
    responder = f"arn:aws:iam::{built.account}:role/Responder"
    [inventory], problems = collect_accounts(
        [("test", lambda: session)], ["us-east-1", "eu-west-1"], "us-east-1", responder=responder
    )
    assert not problems and inventory["account"] and inventory["access"]["principal"] == responder
    assert [op for op in sent if not READ_ONLY.match(op)] == []
    # every call that does not fan out over items (EKS clusters, web ACLs...) was made, and
    # the simulation with the bucket policies (no KMS key in this account: no key policy)
    made = {c.operation for c in CALLS if c.each is None and c.scope != "derived"}
    assert made | {"SimulatePrincipalPolicy", "GetBucketPolicy"} <= set(sent)


def test_responder_access_and_the_log_location_map(account, cli, tmp_path):
    env, e = account
    where = tmp_path / "locations.json"
    result = cli("scan", "--regions", "us-east-1,eu-west-1", "--json", "--responder-role",
                 f"arn:aws:iam::{e.account}:role/Responder", "--locations-out", str(where),
                 "--no-keep", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads(where.read_text())["locations"]
    trail = [x for x in found if x["source"] == "cloudtrail_trail"]
    assert trail == [{"account": e.account, "bucket": e.trail_bucket, "kind": "s3",
                      "prefix": f"AWSLogs/{e.account}/CloudTrail/", "producer": e.trail_arn,
                      "region": "us-east-1", "source": "cloudtrail_trail"}]  # fmt: skip
    flows = next(x for x in found if x["source"] == "vpc_flow")
    assert flows["bucket"] == e.access_log_bucket
    assert flows["prefix"] == f"AWSLogs/{e.account}/vpcflowlogs/us-east-1/"
    assert {x["log_group"] for x in found if x["kind"] == "cloudwatch_logs"} == {
        "/aws/lambda/orders", "/aws/eks/prod/cluster"}  # fmt: skip
    assert {x["api"] for x in found if x["kind"] == "api"} >= {"cloudtrail:LookupEvents"}
    # moto does not implement iam:SimulatePrincipalPolicy: every verdict is unknown, with why
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    access = [f for f in findings if f["check"].startswith("responder_can_")]
    assert len(access) == len(found) + 1  # each location, and acquisition
    assert {f["status"] for f in access} == {"unknown"}
    assert all("HTTP 500" in f["reason"] for f in access)
    assert {f["source"] for f in access} >= {"cloudtrail_trail", "vpc_flow", "cloudwatch_logs"}


def test_every_account_of_the_organization(account, cli):
    import boto3

    env, e = account
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(Email="m@example.com", AccountName="member")
    member_id = member["CreateAccountStatus"]["AccountId"]
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="plant",
    )["Credentials"]
    planted = boto3.client("s3", aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])  # fmt: skip
    planted.create_bucket(Bucket="member-data")
    result = cli("scan", "--org-role", "OrganizationAccountAccessRole", "--regions", "us-east-1",
                 "--no-keep", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "By account" in result.stdout and member_id in result.stdout
    as_json = cli("scan", "--org-role", "OrganizationAccountAccessRole", "--regions",
                  "us-east-1", "--json", "--no-keep", env=env)  # fmt: skip
    findings = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert {f["account"] for f in findings} == {e.account, member_id}
    [bucket] = [f for f in findings if f["check"] == "s3_access_logging"
                and f["account"] == member_id]  # fmt: skip
    assert bucket["resource"] == "member-data" and bucket["status"] == "fail"


def test_no_credentials_is_a_clear_error(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    none = str(tmp_path / "none")
    env |= {"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
            "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "awsir", "scan", "--regions", "us-east-1", "--no-keep"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "no AWS credentials" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_emulator_refuses_a_real_endpoint(monkeypatch):
    from awsir import emulated

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(emulated.NotEmulated):
        emulated.build()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://s3.amazonaws.com")
    with pytest.raises(emulated.NotEmulated):
        emulated.build()


def test_snapshot_holds_no_credentials(scanned):
    _, _, snapshot = scanned
    text = Path(snapshot).read_text()
    assert "testing" not in text.replace("testing-", "") and "SecretAccessKey" not in text


def test_history_shows_the_trend_and_what_changed(scanned, cli, tmp_path):
    """Two scans of the same account: the second after fixing one gap and opening another."""
    e, _, snapshot = scanned
    history = tmp_path / "history"
    first = cli("scan", "--from-snapshot", str(snapshot), "--history", str(history), "--no-keep")
    assert first.returncode == 0 and not history.exists()  # --no-keep keeps nothing
    assert cli("scan", "--from-snapshot", str(snapshot), "--history", str(history)).returncode == 0
    again = cli("scan", "--from-snapshot", str(snapshot), "--history", str(history))
    assert again.returncode == 0 and len(list(history.glob("scan-*.json"))) == 1  # same scan
    data = json.loads(Path(snapshot).read_text())
    calls = data["accounts"][0]["calls"]
    calls["global"]["s3.GetBucketLogging"][e.data_bucket] = {
        "ok": {"LoggingEnabled": {"TargetBucket": e.access_log_bucket}}}  # fixed  # fmt: skip
    calls["us-east-1"]["cloudtrail.GetTrailStatus"][e.trail_arn]["ok"]["IsLogging"] = False
    data["accounts"][0]["taken"] = "2999-01-01T00:00:00+00:00"
    later = tmp_path / "later.json"
    later.write_text(json.dumps(data))
    assert cli("scan", "--from-snapshot", str(later), "--history", str(history)).returncode == 0
    shown = cli("history", "--history", str(history), "--json")
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert len(found["scans"]) == 2 and found["scans"][1]["score"] < found["scans"][0]["score"]
    new = {(g["check"], g["resource"]) for g in found["since_previous"]["new_gaps"]}
    fixed = {(g["check"], g["resource"]) for g in found["since_previous"]["fixed"]}
    assert ("trail_delivery_health", e.trail_arn) in new
    assert fixed == {("s3_access_logging", e.data_bucket)}
    text = cli("history", "--history", str(history))
    assert "New gaps since the previous scan" in text.stdout and e.data_bucket in text.stdout
    (history / "scan-0-broken.json").write_text("{not json")
    warned = cli("history", "--history", str(history))
    assert warned.returncode == 0 and "skipped an unreadable scan record" in warned.stderr
    empty = cli("history", "--history", str(tmp_path / "nothing"))
    assert empty.returncode == 2 and "no scan recorded" in empty.stderr


def test_the_emulated_account_runs_awsir_against_itself(cli, tmp_path):
    """``python -m awsir.emulated scan ...`` (what the demo runs): its own moto server."""
    import subprocess
    import sys

    page = tmp_path / "report.html"
    result = subprocess.run(
        [sys.executable, "-m", "awsir.emulated", "scan", "--regions", "us-east-1", "--no-keep",
         "-o", str(page)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "emulated account" in result.stderr and "Readiness score:" in result.stdout
    assert "Incident readiness of" in page.read_text()


def test_pages_are_followed_where_boto3_has_no_paginator(account):
    """wafv2 ListWebACLs has no boto3 paginator: its NextMarker is followed by hand."""
    import boto3

    from awsir.aws.inventory import ask

    waf = boto3.client("wafv2", region_name="eu-west-1")
    for k in range(3):
        waf.create_web_acl(
            Name=f"acl-{k}", Scope="REGIONAL", DefaultAction={"Allow": {}},
            VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                              "MetricName": f"acl{k}"},
        )  # fmt: skip
    one_page = waf.list_web_acls(Scope="REGIONAL", Limit=1)
    assert len(one_page["WebACLs"]) == 1 and one_page.get("NextMarker")
    found = ask(waf, "ListWebACLs", {"Scope": "REGIONAL", "Limit": 1})
    assert sorted(a["Name"] for a in found["ok"]["WebACLs"]) == ["acl-0", "acl-1", "acl-2"]
    assert "NextMarker" not in found["ok"]
