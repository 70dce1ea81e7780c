"""Every built-in hunt fires on its positive case and stays silent on its negative one.

Two cases are built through the real CLI (`awsir ingest`, then `awsir hunt --json`): one from
evidence where each hunt's behaviour happens, one from near-misses (the same calls with MFA, a
failed StopLogging, a read-only policy, too few denied calls, a harmless port...).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from awsir.store.hunt import REQUIRED, load_hunt, load_hunts
from tests.conftest import REPO

T0 = datetime(2024, 5, 14, 10, 0, tzinfo=UTC)
ATTACKER = "arn:aws:iam::123456789012:user/mallory"
WAF = REPO / "src/awsir/sources/waf/samples/waf"


def record(name: str, source: str, minute: float = 0, who: str = ATTACKER, **extra) -> dict:
    identity = {
        "type": "IAMUser",
        "arn": who,
        "accountId": "123456789012",
        "userName": who.split("/")[-1],
    }
    if who.endswith(":root"):
        identity = {"type": "Root", "arn": who, "accountId": "123456789012"}
    return {
        "eventVersion": "1.09", "userIdentity": identity,
        "eventTime": (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{source}.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.66", "userAgent": "aws-cli/2.15.0",
        "eventID": f"{name}-{minute}-{who}", "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012", **extra,
    }  # fmt: skip


def login(minute: float, mfa: str, result: str, who: str = ATTACKER) -> dict:
    return record(
        "ConsoleLogin", "signin", minute, who, eventType="AwsConsoleSignIn",
        responseElements={"ConsoleLogin": result}, additionalEventData={"MFAUsed": mfa},
    )  # fmt: skip


def denied(name: str, minute: float) -> dict:
    return record(name, "ec2", minute, errorCode="Client.UnauthorizedOperation")


def cloudtrail(positive: bool) -> list[dict]:
    n = 12 if positive else 4
    bulk = 120 if positive else 40
    hidden = "arn:aws:iam::123456789012:user/HIDDEN_DUE_TO_SECURITY_REASONS"
    admin = "AdministratorAccess" if positive else "ReadOnlyAccess"
    share = {("add" if positive else "remove"): {"items": [{"userId": "999988887777"}]}}
    return [
        login(0, "No" if positive else "Yes", "Success"),
        login(1, "Yes", "Failure" if positive else "Success", who=hidden),
        record("GetCallerIdentity", "sts", 2, who=ATTACKER.replace("user/mallory", "root")
               if positive else ATTACKER),
        *(denied("DescribeInstances", 3 + k / 10) for k in range(n)),
        record("StopLogging", "cloudtrail", 5,
               **({} if positive else {"errorCode": "AccessDenied"})),
        record("UpdateDetector", "guardduty", 5.5,
               requestParameters={"detectorId": "d", "enable": not positive}),
        record("AttachUserPolicy", "iam", 6, requestParameters={
            "userName": "backdoor", "policyArn": f"arn:aws:iam::aws:policy/{admin}"}),
        *(record("GetSecretValue", "secretsmanager", 7 + k / 10,
                 requestParameters={"secretId": f"db-{k}"}) for k in range(n)),
        record("ModifySnapshotAttribute", "ec2", 8,
               requestParameters={"snapshotId": "snap-1", "createVolumePermission": share}),
        *(record("GetObject", "s3", 9 + k / 10,
                 requestParameters={"bucketName": "payroll", "key": f"f{k}"}) for k in range(bulk)),
    ]  # fmt: skip


def flows(positive: bool) -> str:
    port = 22 if positive else 443
    header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets"
    lines = [header + " bytes start end action log-status"]
    t = int(T0.timestamp())
    for k in range(6):
        scan = f"198.51.100.9 10.0.1.5 4000{k} {port} 6 1 40 {t + k} {t + k + 60} REJECT OK"
        lines.append(f"2 123456789012 eni-1 {scan}")
    size = 600_000_000 if positive else 10_000_000
    out = f"10.0.1.5 203.0.113.50 51000 443 6 400000 {size} {t} {t + 60} ACCEPT OK"
    lines.append(f"2 123456789012 eni-1 {out}")
    return "\n".join(lines) + "\n"


def dns(positive: bool) -> str:
    n = 25 if positive else 5
    base = {"version": "1.100000", "account_id": "123456789012", "region": "us-east-1",
            "vpc_id": "vpc-1", "query_class": "IN", "query_type": "A", "answers": [],
            "srcaddr": "10.0.1.7", "srcport": "5353", "transport": "UDP",
            "srcids": {"instance": "i-1"}}  # fmt: skip
    rows = [
        {**base, "query_timestamp": (T0 + timedelta(seconds=10 * k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "query_name": f"x{k}q7v.example.", "rcode": "NXDOMAIN"}
        for k in range(n)
    ]  # fmt: skip
    # names resolved across the VPC; in the positive case one client alone asks for a domain
    asked = [(f"10.0.2.{c}", name) for c in range(1, 7) for name in COMMON_NAMES]
    askers = ["10.0.1.7"] if positive else ["10.0.1.7", "10.0.2.1"]
    asked += [(c, "cdn.x9z-beacon.top.") for c in askers for _ in range(3)]
    asked += [(f"10.0.2.{c}", "orders-db.internal.") for c in range(1, 2)]  # private: never rare
    rows += [
        {**base, "query_timestamp": (T0 + timedelta(seconds=7 * k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "srcaddr": client, "query_name": name, "rcode": "NOERROR"}
        for k, (client, name) in enumerate(asked)
    ]  # fmt: skip
    return "".join(json.dumps(r) + "\n" for r in rows)


COMMON_NAMES = ("pypi.org.", "files.pythonhosted.org.", "www.bbc.co.uk.", "sts.amazonaws.com.")
S3_LINE = (
    "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be payroll [{when} +0000] "
    "203.0.113.66 {who} 1E2F3A4B5C6D7E{k:02X} REST.GET.OBJECT exports/f{k}.csv "
    '"GET /exports/f{k}.csv HTTP/1.1" 200 - 1048576 1048576 312 21 "-" "aws-cli/2.15.0" - '
    "c2FtcGxlLWhvc3Q= SigV4 TLS_AES_128_GCM_SHA256 AuthHeader payroll.s3.us-east-1.amazonaws.com "
    "TLSv1.3 - - -"
)


def s3_access(positive: bool) -> str:
    n = 120 if positive else 40
    when = [(T0 + timedelta(seconds=10 * k)).strftime("%d/%b/%Y:%H:%M:%S") for k in range(n)]
    return "".join(S3_LINE.format(when=w, who=ATTACKER, k=k) + "\n" for k, w in enumerate(when))


def evidence(folder: Path, positive: bool) -> Path:
    folder.mkdir(parents=True)
    (folder / "trail.json").write_text(json.dumps({"Records": cloudtrail(positive)}))
    (folder / "flows.log").write_text(flows(positive))
    (folder / "dns.jsonl").write_text(dns(positive))
    (folder / "2024-05-14-10-00-00-0123456789ABCDEF").write_text(s3_access(positive))
    waf = WAF / ("block_managed_rule.jsonl" if positive else "allow_default_action.jsonl")
    (folder / "waf.jsonl").write_text(waf.read_text())
    return folder


@pytest.fixture(scope="module")
def findings(tmp_path_factory, cli):
    found = {}
    for positive in (True, False):
        root = tmp_path_factory.mktemp("positive" if positive else "negative")
        case = root / "case"
        ingested = cli("ingest", str(evidence(root / "evidence", positive)), "--case", str(case))
        assert ingested.returncode == 0, ingested.stderr
        assert "0 quarantined" in ingested.stderr, ingested.stderr
        result = cli("hunt", "--case", str(case), "--json")
        assert result.returncode == 0, result.stderr
        found[positive] = json.loads(result.stdout)
    return found


EXPECTED = {  # hunt -> subject of its finding in the positive case
    "console_login_without_mfa": ATTACKER,
    "console_login_failures": "203.0.113.66",
    "root_usage": "arn:aws:iam::123456789012:root",
    "access_denied_burst": ATTACKER,
    "logging_tampering": ATTACKER,
    "iam_persistence": ATTACKER,
    "secrets_bulk_read": ATTACKER,
    "snapshot_sharing": ATTACKER,
    "s3_mass_access": ATTACKER,
    "s3_access_mass_reads": ATTACKER,
    "rejected_admin_ports": "198.51.100.9",
    "large_outbound_flow": "203.0.113.50",
    "nxdomain_burst": "10.0.1.7",
    "dns_rare_domains": "x9z-beacon.top",
    "waf_blocked": None,  # the sample's client address: any subject will do
}


def test_every_hunt_has_a_case_here():
    assert {h.id for h in load_hunts()} == set(EXPECTED)


@pytest.mark.parametrize("hunt", sorted(EXPECTED))
def test_hunt_fires_on_its_positive_case(findings, hunt):
    mine = [f for f in findings[True]["findings"] if f["id"] == hunt]
    assert mine, f"{hunt} did not fire"
    if EXPECTED[hunt] is not None:
        assert EXPECTED[hunt] in {f["subject"] for f in mine}
    finding = mine[0]
    assert finding["evidence"] and finding["count"] == len(finding["evidence"])
    assert finding["attack"] and finding["why"] and finding["first"] <= finding["last"]


@pytest.mark.parametrize("hunt", sorted(EXPECTED))
def test_hunt_is_silent_on_its_negative_case(findings, hunt):
    assert hunt in findings[False]["ran"]
    assert [f for f in findings[False]["findings"] if f["id"] == hunt] == []


def test_a_hunt_without_its_logs_says_so(cli, tmp_path):
    (tmp_path / "trail.json").write_text(json.dumps({"Records": [login(0, "Yes", "Success")]}))
    case = str(tmp_path / "case")
    assert cli("ingest", str(tmp_path / "trail.json"), "--case", case).returncode == 0
    result = json.loads(cli("hunt", "--case", case, "--json").stdout)
    assert result["skipped"]["large_outbound_flow"] == "no vpc_flow events in this case"


def test_a_hunt_file_must_say_what_it_is(tmp_path):
    bad = tmp_path / "x.sql"
    bad.write_text("-- title: no severity\nSELECT 1\n")
    with pytest.raises(ValueError, match="lacks"):
        load_hunt("x", bad)
    assert REQUIRED == ("title", "severity", "attack", "needs", "why")


def test_a_hunt_whose_sql_fails_is_reported_and_the_others_still_run(findings, tmp_path):
    """A broken hunt (a plugin's, or a view that lost a column) is named with DuckDB's error;
    it does not hide the other hunts' findings."""
    import duckdb

    from awsir.store.hunt import run_hunts

    broken = tmp_path / "broken.sql"
    broken.write_text(
        "-- title: t\n-- severity: low\n-- attack: T0000\n-- needs: cloudtrail\n-- why: w\n"
        "SELECT no_such_column AS subject FROM cloudtrail\n"
    )
    good = load_hunt("root_usage", REPO / "src/awsir/hunts/root_usage.sql")
    con = duckdb.connect()
    con.execute(
        "CREATE VIEW cloudtrail AS SELECT TIMESTAMPTZ '2024-05-14 10:00:00+00' AS time, "
        "'cloudtrail' AS source, 'arn:aws:iam::1:root' AS actor, NULL AS src_ip, 'x' AS action, "
        "'m' AS message, 'f:1' AS raw_ref, "
        "json_object('type', 'Root')::JSON AS userIdentity, 'AwsApiCall' AS eventType"
    )
    bad_run, good_run = run_hunts(con, [load_hunt("broken", broken), good])
    assert bad_run.failed and "no_such_column" in bad_run.failed and not bad_run.findings
    assert good_run.failed is None and [f.subject for f in good_run.findings] == [
        "arn:aws:iam::1:root"
    ]
