"""A case and a readiness history for the dashboard's tests, with attacker-controlled text planted
where logs carry it: a user agent, a request URI, an S3 key, a principal name, and (in the
readiness history) a resource name and a fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import REPO

XSS = {
    "agent": "<script>alert('ua')</script>",
    "uri": "/<svg/onload=alert('uri')>",
    "key": "<img/src=x/onerror=alert('key')>.csv",
    "principal": "<img src=x onerror=alert('who')>",
    "resource": "\"><script>alert('res')</script>",
}
RULES = REPO / "src" / "awsir" / "rules"


def _cloudtrail(folder: Path) -> None:
    who = {
        "type": "IAMUser",
        "arn": f"arn:aws:iam::111122223333:user/{XSS['principal']}",
        "accountId": "111122223333",
        "userName": XSS["principal"],
    }
    record = {
        "eventVersion": "1.09",
        "userIdentity": who,
        "eventTime": "2024-05-14T11:00:00Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "GetFederationToken",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.99",
        "userAgent": XSS["agent"],
        "requestParameters": {"name": "x"},
        "eventID": "xss-1",
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
    }
    (folder / "xss_trail.json").write_text(json.dumps({"Records": [record]}))


def _alb(folder: Path) -> None:
    line = (RULES / "web" / "alb_path_traversal.positive.log").read_text().splitlines()[0]
    line = line.replace("/static/..%2f..%2f..%2fetc/passwd", "/static/..%2f" + XSS["uri"])
    (folder / "xss_alb.log").write_text(line + "\n")


def _s3(folder: Path) -> None:
    line = (RULES / "s3_access" / "s3_anonymous_read.positive.log").read_text().splitlines()[0]
    line = line.replace("exports/customers.csv", "exports/" + XSS["key"])
    (folder / "xss_s3.log").write_text(line + "\n")


def history(folder: Path) -> Path:
    """Two recorded scans: the later one has a new gap on a hostile resource, and a fix."""
    folder.mkdir(parents=True, exist_ok=True)
    base = {
        "check": "vpc_flow_logs",
        "title": "VPC Flow Logs on every VPC",
        "source": "vpc_flow",
        "severity": "high",
        "account": "111122223333",
        "region": "eu-west-1",
    }
    good = {**base, "status": "pass", "resource": "vpc-0a1b", "reason": "flow logs to S3"}
    gap = {
        **base,
        "status": "fail",
        "resource": "vpc-blind" + XSS["resource"],
        "reason": "no flow log",
        "fix": f"aws ec2 create-flow-logs --resource-ids 'vpc-blind{XSS['resource']}'",
        "terraform": 'resource "aws_flow_log" "x" {}',
    }
    trail = {
        "check": "trail_covers_every_region",
        "title": "A trail covers every Region",
        "source": "cloudtrail_trail",
        "severity": "critical",
        "status": "pass",
        "account": "111122223333",
        "region": "global",
        "resource": "org-trail",
        "reason": "multi-Region trail",
    }
    scans = [
        ("2026-11-20T10:00:00+00:00", [good, trail], 100),
        ("2026-11-22T10:00:00+00:00", [good, gap, trail], 72),
    ]
    for taken, verdicts, score in scans:
        entry = {
            "version": 1,
            "taken": taken,
            "accounts": ["111122223333"],
            "score": score,
            "by_source": {"cloudtrail_trail": 100, "vpc_flow": 50 if len(verdicts) > 2 else 100},
            "by_region": {"eu-west-1": 50 if len(verdicts) > 2 else 100, "global": 100},
            "by_account": {"111122223333": score},
            "questions": [
                {
                    "question": "network",
                    "text": "What did the instances of each VPC talk to?",
                    "status": "partly" if len(verdicts) > 2 else "answerable",
                    "blind": [{"check": "vpc_flow_logs", "resource": gap["resource"]}]
                    if len(verdicts) > 2
                    else [],
                }
            ],
            "verdicts": verdicts,
        }
        stamp = taken[:10].replace("-", "")
        (folder / f"scan-{stamp}-test.json").write_text(json.dumps(entry))
    return folder


def build(root: Path, cli) -> tuple[Path, Path]:
    """(case, history) under ``root``: hostile logs plus the built-in rules' positive cases,
    ingested, with detections and hunts run."""
    evidence = root / "evidence"
    evidence.mkdir(parents=True)
    _cloudtrail(evidence)
    _alb(evidence)
    _s3(evidence)
    for path in RULES.glob("*/*.positive.*"):
        shutil.copy(path, evidence / path.name)
    case = root / "case"
    for args in (("ingest", str(evidence)), ("detect", "--no-sigmahq"), ("hunt",)):
        done = cli(*args, "--case", str(case))
        assert done.returncode == 0, done.stderr
    return case, history(root / "history")
