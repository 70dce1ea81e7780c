"""``awsir detect`` and ``awsir rules``: the built-in rules on their own cases, the commands end
to end on a real case, correlations, the OCSF pipeline, golden SQL, a broken rule among good
ones, and ``rules update`` against a local HTTP server."""

from __future__ import annotations

import io
import json
import os
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sigma.collection import SigmaCollection

from awsir.detect.cases import test_rule as run_cases
from awsir.detect.engine import compile_rule, compile_sigma, run_rules
from awsir.detect.rules import Rule, load_rules, resolve_references
from awsir.store.case import Case
from awsir.store.catalog import open_case
from tests.conftest import REPO, SHARED

RULES = REPO / "src" / "awsir" / "rules"
GOLDEN = Path(__file__).parent / "golden_sql"
BUILTIN, PROBLEMS = load_rules()
TESTED = [r for r in BUILTIN if not r.referenced_only]


def test_builtin_rules_load_and_cover_every_log_family():
    assert PROBLEMS == []
    assert len(TESTED) >= 30
    services = {r.sigma.logsource.service or r.sigma.logsource.category
                for r in BUILTIN if r.kind == "rule"}  # fmt: skip
    assert {"cloudtrail", "vpc_flow", "route53_resolver", "s3_access", "alb", "waf",
            "guardduty", "securityhub", "webserver"} <= services  # fmt: skip
    kinds = {r.kind for r in TESTED}
    assert {"rule", "correlation:event_count", "correlation:value_count",
            "correlation:temporal"} <= kinds  # fmt: skip


@pytest.mark.parametrize("rule", TESTED, ids=[r.id for r in TESTED])
def test_builtin_rule_fires_on_its_positive_case_only(rule):
    assert set(rule.cases) == {"positive", "negative"}, rule.path
    outcome = run_cases(rule)
    assert outcome.problem is None, outcome.problem
    by_kind = {c.kind: c for c in outcome.results}
    assert by_kind["positive"].ok and by_kind["positive"].findings > 0, by_kind["positive"]
    assert by_kind["negative"].ok and by_kind["negative"].findings == 0, by_kind["negative"]
    assert by_kind["negative"].rows > 0  # the negative case is evidence, not an empty file


# --- golden SQL: what a representative set of rules compiles to -----------------------------

SNAPSHOTS = {
    "ct_login_profile_for_other_user": "native",  # fieldref, JSON paths, exists
    "ct_image_or_snapshot_shared": "native",  # 1 of selection_*
    "vpc_flow_admin_port_probe": "native",  # cidr, AWS field names to columns, numbers
    "web_scanner_user_agent": "native",  # category webserver over every HTTP source
    "s3_anonymous_read": "native",  # null, field names with spaces
    "ct_secrets_bulk_read": "native",  # value_count correlation
    "ct_admin_user_created": "native",  # temporal correlation over three rules
}
OCSF_RULE = """title: Trail stopped or deleted (fields OCSF has)
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: cloudtrail.amazonaws.com
    eventName: [StopLogging, DeleteTrail]
    userIdentity.arn|contains: ':user/'
  filter:
    sourceIPAddress|cidr: 10.0.0.0/8
  condition: selection and not filter
"""


def test_ocsf_compiled_sql_matches_its_snapshot():
    query = compile_sigma(SigmaCollection.from_yaml(OCSF_RULE).rules[0], "ocsf")
    path = GOLDEN / "trail_stopped.ocsf.sql"
    if os.environ.get("AWSIR_UPDATE_SNAPSHOTS"):
        path.write_text(query.sql + "\n")
    assert query.sql + "\n" == path.read_text()


@pytest.mark.parametrize(("rule_id", "kind"), SNAPSHOTS.items(), ids=list(SNAPSHOTS))
def test_compiled_sql_matches_its_snapshot(rule_id, kind):
    [rule] = [r for r in BUILTIN if r.id == rule_id]
    compiled = compile_rule(rule, kind)
    assert compiled.error is None and compiled.sql
    path = GOLDEN / f"{rule_id}.{kind}.sql"
    if os.environ.get("AWSIR_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(compiled.sql + "\n")
    assert compiled.sql + "\n" == path.read_text(), (
        f"{rule_id}: the SQL changed; review and regenerate with AWSIR_UPDATE_SNAPSHOTS=1"
    )


# --- the commands on a real case -------------------------------------------------------------


@pytest.fixture(scope="module")
def case(tmp_path_factory, cli):
    """A case made of every built-in rule's positive case, plus a noise file."""
    folder = tmp_path_factory.mktemp("detect")
    positives = [p for r in TESTED for p in r.cases["positive"]]
    root = folder / "case"
    done = cli("ingest", *map(str, positives), "--case", str(root))
    assert done.returncode == 0, done.stderr
    return root


def detect(cli, case: Path, *args: str) -> dict:
    done = cli("detect", "--case", str(case), "--no-sigmahq", "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_detect_finds_every_rule_on_the_positive_evidence(cli, case):
    found = detect(cli, case)
    fired = {f["id"] for f in found["findings"]}
    assert fired >= {r.id for r in TESTED}, {r.id for r in TESTED} - fired
    assert not found["failed"]
    one = next(f for f in found["findings"] if f["id"] == "ct_secrets_bulk_read")
    assert one["subject"].startswith("userIdentity.arn=arn:aws:sts::")
    assert one["count"] == 8 and one["details"]["peak"] >= 5 and len(one["evidence"]) == 8
    assert one["severity"] == "high" and one["attack"] == ["T1555.006"]
    # one scan per view, whatever the number of rules reading it
    assert any(k.startswith("cloudtrail") for k in found["passes"])
    assert len([k for k in found["passes"] if k.startswith("cloudtrail")]) == 1


def test_timeline_opens_a_findings_events(cli, case):
    detect(cli, case)
    done = cli("timeline", "--case", str(case), "--finding", "ct_admin_user_created", "-f", "json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["action"] for r in rows] == [
        "iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey",
    ]  # fmt: skip
    missing = cli("timeline", "--case", str(case), "--finding", "no_such_rule")
    assert missing.returncode == 2 and "no finding 'no_such_rule'" in missing.stderr


def test_time_window_limits_what_rules_see(cli, case):
    before = detect(cli, case, "--to", "2024-05-14T09:00:00")
    assert before["findings"] == []
    early = detect(cli, case, "--from", "2024-05-14T10:00:00", "--to", "2024-05-14T10:01:00",
                   "--only", "ct_secrets_bulk_read")  # fmt: skip
    assert early["findings"] == []  # 3 secrets in that minute: under the threshold


def test_a_broken_rule_is_named_and_the_others_still_run(cli, case, tmp_path):
    (tmp_path / "bad_yaml.yml").write_text("title: [unclosed\n")
    (tmp_path / "no_logs.yml").write_text(
        "title: Unknown logs\nlogsource: {product: windows, service: security}\n"
        "detection:\n  sel:\n    EventID: 4625\n  condition: sel\n"
    )
    (tmp_path / "bad_regex.yml").write_text(
        "title: RE2 refuses look-behind\nlogsource: {product: aws, service: cloudtrail}\n"
        "detection:\n  sel:\n    eventName|re: '(?<=Get)Secret'\n  condition: sel\n"
    )
    (tmp_path / "bad_number.yml").write_text(
        "title: A number compared to text\nlogsource: {product: aws, service: cloudtrail}\n"
        "detection:\n  sel:\n    eventName|gt: 5\n  condition: sel\n"
    )
    done = cli("detect", "--case", str(case), "--no-sigmahq", "--rules", str(tmp_path))
    assert done.returncode == 1  # a rule failed on the case
    err = done.stderr.replace("\n", " ")
    assert "bad_yaml.yml" in err and "rule not loaded" in err
    assert "no_logs" in err and "awsir has no such logs" in err
    assert "bad_regex.yml: RE2 refuses look-behind: Regular expression" in err
    assert err.count("Regular expression") == 1  # said once
    assert "rule bad_number (" in err and "Cannot compare" in err
    assert "ct_secrets_bulk_read" in done.stdout.replace("\n", "")  # the others' findings


def test_rules_show_prints_the_sql_and_list_the_metadata(cli):
    done = cli("rules", "show", "ct_role_trust_changed", "--json")
    meta = json.loads(done.stdout)
    assert meta["sql"].startswith('SELECT * FROM "cloudtrail" AS e WHERE')
    assert "UpdateAssumeRolePolicy" in meta["sql"] and meta["attack"] == ["T1098"]
    assert meta["cases"] == {"positive": ["ct_role_trust_changed.positive.json"],
                             "negative": ["ct_role_trust_changed.negative.json"]}  # fmt: skip
    ocsf = cli("rules", "show", "ct_lambda_public_permission", "--pipeline", "ocsf")
    assert ocsf.returncode == 1 and "has no equivalent in ocsf_api_activity" in ocsf.stderr
    listed = json.loads(cli("rules", "list", "--json", "--no-sigmahq").stdout)
    assert {r["id"] for r in listed} >= {r.id for r in TESTED}


def test_rules_test_command_runs_the_cases(cli, tmp_path):
    done = cli("rules", "test", "dns_firewall_block", "s3_mass_object_deletes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 0 failed" in done.stderr
    # a rule whose negative case fires fails the command
    rule = tmp_path / "too_broad.yml"
    rule.write_text((RULES / "route53_resolver" / "dns_firewall_block.yml").read_text()
                    .replace("firewall_rule_action: BLOCK", "query_type: A"))  # fmt: skip
    for kind in ("positive", "negative"):
        src = RULES / "route53_resolver" / f"dns_firewall_block.{kind}.jsonl"
        (tmp_path / f"too_broad.{kind}.jsonl").write_text(src.read_text())
    failed = cli("rules", "test", "too_broad", "--rules", str(tmp_path), "--no-builtin")
    assert failed.returncode == 1 and "fired 1 finding" in failed.stdout.replace("\n", "")


# --- correlations and the OCSF pipeline, in process ------------------------------------------


def _ct(name: str, second: int, user: str = "u1", **extra: object) -> dict:
    return {
        "eventVersion": "1.09", "eventSource": "iam.amazonaws.com", "eventName": name,
        "eventTime": f"2024-05-14T10:{second // 60:02d}:{second % 60:02d}Z",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9",
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::111122223333:user/{user}",
                         "accountId": "111122223333", "userName": user},
        "eventID": f"{name}-{second}-{user}", "recipientAccountId": "111122223333", **extra,
    }  # fmt: skip


@pytest.fixture(scope="module")
def burst_case(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("burst")
    records = [_ct("ListUsers", s * 30) for s in range(10)]  # u1: 10 calls in 4.5 minutes
    records += [_ct("ListUsers", 3000)]  # and one 50 minutes later, in no window of 10
    records += [_ct("ListUsers", s * 40, user="u2") for s in range(9)]  # u2: only 9
    records += [_ct("ListRoles", 100, user="u2", requestParameters={"pathPrefix": "/x/"})]
    (folder / "trail.json").write_text(json.dumps({"Records": records}))
    assert cli("ingest", str(folder / "trail.json"), "--case", str(folder / "c")).returncode == 0
    con = open_case(Case(folder / "c"))
    yield con
    con.close()


def _findings(con, text: str) -> list:
    collection = SigmaCollection.from_yaml(text, resolve_references=False)
    rules = [Rule(str(r.name or k), r, Path("t.yml"), "test") for k, r in enumerate(collection)]
    loaded, problems = resolve_references(rules, [])
    assert problems == []
    return run_rules(con, [compile_rule(r) for r in loaded]).findings


BASE = """title: list call
name: listing
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName|startswith: List
  condition: sel
---
title: counted
correlation:
  type: %s
  rules: [listing]
  group-by: [userIdentity.arn]
  timespan: 5m
  condition: %s
"""


def test_event_count_counts_inside_the_window_per_group(burst_case):
    """Only the events of windows that met the condition are evidence, per group."""
    found = _findings(burst_case, BASE % ("event_count", "{gte: 10}"))
    assert [(f.subject, f.count) for f in found] == [
        ("userIdentity.arn=arn:aws:iam::111122223333:user/u1", 10)
    ]
    assert _findings(burst_case, BASE % ("event_count", "{gte: 11}")) == []


def test_value_count_counts_distinct_values(burst_case):
    found = _findings(burst_case, BASE % ("value_count", "{gte: 2, field: eventName}"))
    assert [f.subject for f in found] == ["userIdentity.arn=arn:aws:iam::111122223333:user/u2"]


def test_ocsf_pipeline_finds_what_the_native_view_finds(burst_case):
    rule = SigmaCollection.from_yaml(
        "title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n"
        "    eventSource: iam.amazonaws.com\n    eventName: ListRoles\n"
        "    userIdentity.arn|endswith: /u2\n    awsRegion: us-east-1\n  condition: sel\n"
    ).rules[0]
    native, ocsf = compile_sigma(rule, "native"), compile_sigma(rule, "ocsf")
    assert ocsf.target.view == "ocsf_api_activity" and '"api"."operation"' in ocsf.condition
    refs = [
        {r[0] for r in burst_case.sql(f"SELECT {q.target.ref} FROM ({q.sql}) AS e").fetchall()}
        for q in (native, ocsf)
    ]
    assert refs[0] == refs[1] and len(refs[0]) == 1


# --- the upstream SigmaHQ rules, unchanged, on real detonations --------------------------------

UPSTREAM = SHARED / "sigma" / "aws"
ATTACKS = SHARED / "corpus" / "attacks"


@pytest.mark.skipif(not UPSTREAM.is_dir() or not ATTACKS.is_dir(), reason="../shared is absent")
def test_upstream_rules_run_unchanged_on_the_attack_corpus(cli, tmp_path):
    case = tmp_path / "case"
    assert cli("ingest", str(ATTACKS), "--case", str(case)).returncode == 0
    found = detect(cli, case, "--rules", str(UPSTREAM))
    assert not found["failed"]
    fired = {f["id"] for f in found["findings"]}
    assert len({i for i in fired if i.startswith("aws_")}) >= 10  # upstream rules fire
    assert len({i for i in fired if i.startswith("ct_")}) >= 10  # and awsir's own


# --- rules update --------------------------------------------------------------------------------


def _archive() -> bytes:
    buffer = io.BytesIO()
    rule = (
        "title: Federation token\nid: 3a0c1e52-8f6e-4b1e-9d3a-5c2f7e4b9a10\nstatus: test\n"
        "logsource: {product: aws, service: cloudtrail}\n"
        "detection:\n  sel:\n    eventName: GetFederationToken\n  condition: sel\nlevel: low\n"
    )
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("sigma-r2026-11-01/rules/cloud/aws/cloudtrail/aws_federation.yml", rule)
        z.writestr("rules/windows/process_creation/proc.yml", "title: not aws\n")
        z.writestr("rules/cloud/aws/../../../../evil.yml", "title: escape\n")
        z.writestr("README.md", "rules\n")
    return buffer.getvalue()


@pytest.fixture
def release_server():
    body = _archive()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/sigma_all_rules.zip":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_rules_update_keeps_only_aws_rules_and_refuses_escapes(cli, tmp_path, release_server):
    dest = tmp_path / "sigma"
    env = {"AWSIR_SIGMA_DIR": str(dest)}
    done = cli("rules", "update", "--url", f"{release_server}/sigma_all_rules.zip", env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.yml")) == [
        "cloudtrail/aws_federation.yml"
    ]
    assert "refused" in done.stderr and not (tmp_path / "evil.yml").exists()
    meta = json.loads((dest / "SOURCE.json").read_text())
    assert meta["rules"] == 1 and len(meta["sha256"]) == 64
    listed = json.loads(cli("rules", "list", "--json", env=env).stdout)
    assert {r["id"]: r["provider"] for r in listed}["aws_federation"] == "--rules"
    broken = cli("rules", "update", "--url", f"{release_server}/missing.zip", env=env)
    assert broken.returncode == 1 and "404" in broken.stderr
    assert (dest / "cloudtrail" / "aws_federation.yml").exists()  # the old set is kept
