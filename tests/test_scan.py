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
from tests.conftest import local_moto

REQUIRED = ("check", "title", "source", "status", "severity", "resource", "region", "account",
            "reason")  # fmt: skip


@pytest.fixture(scope="module")
def account():
    import boto3

    from awsir import emulated

    with local_moto() as env:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            built = emulated.build(boto3.Session(region_name="us-east-1"))
            yield env, built
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="module")
def scanned(account, cli, tmp_path_factory):
    env, built = account
    snapshot = tmp_path_factory.mktemp("scan") / "snapshot.json"
    result = cli("scan", "--regions", "us-east-1,eu-west-1", "--json", "--snapshot-out",
                 str(snapshot), env=env)  # fmt: skip
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
    bucket = next(f for f in findings if f["check"] == "trail_bucket_protection")
    assert "30 days" in bucket["reason"] and e.trail_bucket in bucket["fix"]


def test_a_call_the_endpoint_cannot_answer_is_unknown_with_its_reason(scanned):
    _, findings, _ = scanned
    # moto does not implement IAM Access Analyzer: the check must not guess
    analyzer = [f for f in findings if f["check"] == "access_analyzer_enabled"]
    assert analyzer and {f["status"] for f in analyzer} == {"unknown"}
    assert all("HTTP 500" in f["reason"] for f in analyzer)


def test_checks_rerun_offline_from_the_snapshot(scanned, cli, tmp_path):
    _, findings, snapshot = scanned
    nowhere = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true"}
    offline = cli("scan", "--from-snapshot", str(snapshot), "--json", env=nowhere)
    assert offline.returncode == 0, offline.stderr
    again = [json.loads(line) for line in offline.stdout.splitlines()]
    assert again == findings
    text = cli("scan", "--from-snapshot", str(snapshot))
    assert text.returncode == 0 and "Readiness score:" in text.stdout
    assert "vpc_flow_logs" in text.stdout and "no flow log" in text.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    refused = cli("scan", "--from-snapshot", str(bad))
    assert refused.returncode == 2 and "cannot read the snapshot" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_fail_under_turns_the_score_into_an_exit_code(scanned, cli):
    _, _, snapshot = scanned
    low = cli("scan", "--from-snapshot", str(snapshot), "--fail-under", "95")
    assert low.returncode == 1 and "below --fail-under 95" in low.stderr
    assert cli("scan", "--from-snapshot", str(snapshot), "--fail-under", "1").returncode == 0


def test_the_scan_makes_read_only_calls_only(account):
    """Every operation the inventory sends, recorded on the wire by botocore's event hooks."""
    import boto3

    from awsir.aws.inventory import collect

    sent: list[str] = []
    session = boto3.Session(region_name="us-east-1")
    session.events.register("before-call", lambda model, **_: sent.append(model.name))
    inventory = collect(session, ["us-east-1", "eu-west-1"])
    assert inventory["account"] and sent
    assert [op for op in sent if not READ_ONLY.match(op)] == []
    # every call that does not fan out over items (EKS clusters, web ACLs...) was made
    assert {c.operation for c in CALLS if c.each is None} <= set(sent)


def test_no_credentials_is_a_clear_error(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    none = str(tmp_path / "none")
    env |= {"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
            "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "awsir", "scan", "--regions", "us-east-1"],
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
