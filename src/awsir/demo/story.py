"""The intrusion the demo tells, written as AWS writes its logs, into the emulated account.

One day (two days ago, so every collection window is in the past), deterministic for a seed:

- 09:00-13:00 **background**: people and roles at work, in both Regions (CloudTrail), the web
  tier's traffic and DNS (flow and Resolver logs of the ``prod`` VPC), the application reading
  its exports bucket (S3 server access logs).
- 10:02 **initial access**: the access key of ``ci-deploy`` (leaked from a CI job) is used from
  an address never seen before, with an attacker's tooling as user agent.
- 10:03-10:09 **reconnaissance**: GetCallerIdentity, ListBuckets, DescribeInstances in both
  Regions, IAM and RDS enumeration, a burst of AccessDenied.
- 10:15-10:21 **persistence**: CreateUser ``svc-backup``, AttachUserPolicy AdministratorAccess,
  CreateAccessKey, CreateLoginProfile, then a console sign-in without MFA.
- 10:30-10:52 **collection and exfiltration**: the new key downloads the finance exports (S3
  access logs and S3 data events) and the customer-data bucket (neither logged: blind); Run
  Command on a web server uploads an archive to the attacker's server (flow logs of ``prod``:
  large outbound transfers; Resolver logs: the exfiltration domain) and on the batch server in
  eu-west-1, whose VPC logs nothing (blind).
- 11:00-11:02 **defense evasion**: PutEventSelectors drops the data events, DeleteFlowLogs
  removes the eu-west-1 flow log, StopLogging stops the trail (applied to the account too, so
  the scan that follows sees it), after which CloudTrail records nothing more.
- GuardDuty's findings of the day, as Security Hub receives them (ASFF).

Addresses and domains are from the documentation ranges (RFC 5737, ``.example``).
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3

from awsir.emulated import REGIONS, Emulated

EAST, WEST = REGIONS


@dataclass
class Cast:
    """Who and what the story involves; what the investigation should recover."""

    account: str
    day: date
    leaked_user: str = "ci-deploy"
    leaked_key: str = ""
    backdoor_user: str = "svc-backup"
    backdoor_key: str = ""
    attacker_ip: str = "203.0.113.66"
    exfil_ip: str = "192.0.2.200"
    exfil_domain: str = "files.drop-cloud.example."
    attacker_agent: str = "Boto3/1.26.0 Python/3.8.10 Linux/5.15.0-kali3-amd64 Botocore/1.29.0"
    web_instance: str = "i-0a1b2c3d4e5f60718"
    batch_instance: str = "i-0e9d8c7b6a5f40312"
    finance_bucket: str = ""
    actions: list[tuple[str, str]] = field(default_factory=list)  # (time, what) of the attacker

    def at(self, hh: int, mm: int, ss: int = 0) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, hh, mm, ss, tzinfo=UTC)


def _key(rng: random.Random, prefix: str = "AKIA") -> str:
    return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


class Trail:
    """CloudTrail records, delivered as AWS does: one gzip JSON file per Region and 5 minutes."""

    def __init__(self, cast: Cast, rng: random.Random) -> None:
        self.cast, self.rng = cast, rng
        self.records: list[dict[str, Any]] = []
        self.count = 0

    def user(self, name: str, key: str) -> dict[str, Any]:
        return {
            "type": "IAMUser",
            "principalId": "AIDA" + name.upper().replace("-", "")[:12],
            "arn": f"arn:aws:iam::{self.cast.account}:user/{name}",
            "accountId": self.cast.account,
            "accessKeyId": key,
            "userName": name,
        }

    def role(self, role: str, session: str) -> dict[str, Any]:
        arn = f"arn:aws:sts::{self.cast.account}:assumed-role/{role}/{session}"
        return {
            "type": "AssumedRole",
            "principalId": f"AROA{role.upper()[:10]}:{session}",
            "arn": arn,
            "accountId": self.cast.account,
            "accessKeyId": _key(self.rng, "ASIA"),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{self.cast.account}:role/{role}",
                    "userName": role,
                }
            },
        }

    def add(
        self,
        when: datetime,
        source: str,
        name: str,
        who: dict[str, Any],
        ip: str,
        agent: str,
        region: str = EAST,
        request: Any = None,
        response: Any = None,
        error: str | None = None,
        **extra: Any,
    ) -> None:
        self.count += 1
        record = {
            "eventVersion": "1.09",
            "userIdentity": who,
            "eventTime": f"{when:%Y-%m-%dT%H:%M:%SZ}",
            "eventSource": f"{source}.amazonaws.com",
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": agent,
            "requestParameters": request,
            "responseElements": response,
            "requestID": f"{self.rng.getrandbits(128):032x}",
            "eventID": f"{self.rng.getrandbits(128):032x}",
            "readOnly": name.startswith(("Get", "List", "Describe", "Head")),
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": self.cast.account,
            "eventCategory": "Management",
            **extra,
        }
        if error:
            record["errorCode"] = error
            record["errorMessage"] = (
                f"User: {who['arn']} is not authorized to perform: {source}:{name}"
            )
        self.records.append(record)

    def files(self) -> list[tuple[str, bytes]]:
        groups: dict[tuple[str, datetime], list[dict[str, Any]]] = {}
        for r in self.records:
            when = datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            slot = when.replace(minute=when.minute // 5 * 5, second=0) + timedelta(minutes=5)
            groups.setdefault((r["awsRegion"], slot), []).append(r)
        out = []
        acct = self.cast.account
        for (region, slot), records in sorted(groups.items()):
            records.sort(key=lambda r: r["eventTime"])
            tail = f"{self.rng.getrandbits(64):016x}.json.gz"
            name = f"{acct}_CloudTrail_{region}_{slot:%Y%m%dT%H%MZ}_{tail}"
            key = f"AWSLogs/{acct}/CloudTrail/{region}/{slot:%Y/%m/%d}/{name}"
            out.append((key, gzip.compress(json.dumps({"Records": records}).encode())))
        return out


def _background(trail: Trail, cast: Cast, rng: random.Random) -> None:
    people = [("alice", "console"), ("bob", "cli"), ("carol", "cli")]
    console = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.4 Safari/605.1.15"
    )
    calls = [
        ("ec2", "DescribeInstances"),
        ("s3", "ListBuckets"),
        ("cloudwatch", "GetMetricData"),
        ("lambda", "ListFunctions20150331"),
        ("rds", "DescribeDBInstances"),
        ("logs", "FilterLogEvents"),
        ("ec2", "DescribeSecurityGroups"),
        ("iam", "GetRole"),
        ("ssm", "GetParameter"),
        ("sts", "GetCallerIdentity"),
    ]
    for k in range(900):
        when = cast.at(9, 0) + timedelta(seconds=rng.randrange(4 * 3600))
        region = EAST if rng.random() < 0.75 else WEST
        source, name = rng.choice(calls)
        if k % 3 == 0:
            who = trail.role("app-server", "i-0f00d" + f"{rng.randrange(16**12):012x}")
            trail.add(
                when,
                source,
                name,
                who,
                f"10.20.{rng.randrange(1, 3)}.{rng.randrange(4, 250)}",
                "aws-sdk-java/2.25.11 Linux/5.10 OpenJDK_64-Bit_Server_VM/17",
                region,
            )
        elif k % 3 == 1:
            who = trail.role("deploy", "github-actions")
            trail.add(
                when,
                source,
                name,
                who,
                "140.82.112.5",
                "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1017-azure",
                region,
            )
        else:
            person, how = rng.choice(people)
            who = trail.user(person, _key(rng))
            agent = console if how == "console" else "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0"
            trail.add(when, source, name, who, "198.51.100.14", agent, region)
    for person in ("alice", "bob"):  # people sign in with MFA
        trail.add(
            cast.at(9, 2 if person == "alice" else 9),
            "signin",
            "ConsoleLogin",
            trail.user(person, _key(rng)),
            "198.51.100.14",
            console,
            response={"ConsoleLogin": "Success"},
            additionalEventData={"MFAUsed": "Yes", "MobileVersion": "No"},
            eventType="AwsConsoleSignIn",
        )


def _attack(trail: Trail, cast: Cast, rng: random.Random) -> None:
    leaked = trail.user(cast.leaked_user, cast.leaked_key)
    ip, agent = cast.attacker_ip, cast.attacker_agent

    def act(
        when: datetime, source: str, name: str, who: dict[str, Any], what: str, **kw: Any
    ) -> None:
        trail.add(when, source, name, who, ip, agent, **kw)
        cast.actions.append((f"{when:%H:%M:%S}", what))

    act(cast.at(10, 2), "sts", "GetCallerIdentity", leaked, "leaked key of ci-deploy used")
    act(cast.at(10, 3), "s3", "ListBuckets", leaked, "ListBuckets")
    for region in REGIONS:
        act(
            cast.at(10, 4, 10 if region == EAST else 40),
            "ec2",
            "DescribeInstances",
            leaked,
            f"DescribeInstances in {region}",
            region=region,
        )
    denied = [
        ("iam", "ListUsers"),
        ("iam", "GetAccountAuthorizationDetails"),
        ("iam", "ListRoles"),
        ("rds", "DescribeDBInstances"),
        ("secretsmanager", "ListSecrets"),
        ("kms", "ListKeys"),
        ("organizations", "DescribeOrganization"),
        ("guardduty", "ListDetectors"),
    ]
    for k in range(14):
        source, name = denied[k % len(denied)]
        trail.add(
            cast.at(10, 5) + timedelta(seconds=20 * k),
            source,
            name,
            leaked,
            ip,
            agent,
            region=REGIONS[k % 2],
            error="AccessDenied",
        )
    cast.actions.append(("10:05:00", "14 calls refused (AccessDenied) while enumerating"))
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    user = cast.backdoor_user
    act(
        cast.at(10, 15),
        "iam",
        "CreateUser",
        leaked,
        f"CreateUser {user}",
        request={"userName": user},
        response={"user": {"userName": user}},
    )
    act(
        cast.at(10, 16),
        "iam",
        "AttachUserPolicy",
        leaked,
        f"AttachUserPolicy {user} Admin",
        request={"userName": user, "policyArn": admin},
    )
    act(
        cast.at(10, 17),
        "iam",
        "CreateAccessKey",
        leaked,
        f"CreateAccessKey for {user}",
        request={"userName": user},
        response={
            "accessKey": {"userName": user, "accessKeyId": cast.backdoor_key, "status": "Active"}
        },
    )
    act(
        cast.at(10, 18),
        "iam",
        "CreateLoginProfile",
        leaked,
        f"CreateLoginProfile for {user}",
        request={"userName": user, "passwordResetRequired": False},
    )
    backdoor = trail.user(user, cast.backdoor_key)
    console = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
    trail.add(
        cast.at(10, 21),
        "signin",
        "ConsoleLogin",
        {**backdoor, "accessKeyId": ""},
        ip,
        console,
        response={"ConsoleLogin": "Success"},
        additionalEventData={"MFAUsed": "No", "MobileVersion": "No"},
        eventType="AwsConsoleSignIn",
    )
    cast.actions.append(("10:21:00", f"console sign-in as {user} without MFA"))
    for k in range(40):  # data events of the finance bucket (the trail records them until 11:00)
        key = f"exports/2024/finance-{k:04d}.csv"
        trail.add(
            cast.at(10, 30) + timedelta(seconds=15 * k),
            "s3",
            "GetObject",
            backdoor,
            ip,
            "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-kali3-amd64",
            request={"bucketName": cast.finance_bucket, "key": key},
            resources=[
                {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{cast.finance_bucket}/{key}"}
            ],
            managementEvent=False,
            eventCategory="Data",
            readOnly=True,
        )
    cast.actions.append(("10:30:00", f"GetObject burst on {cast.finance_bucket}"))
    for instance, region in ((cast.web_instance, EAST), (cast.batch_instance, WEST)):
        act(
            cast.at(10, 44 if region == EAST else 46),
            "ssm",
            "SendCommand",
            backdoor,
            f"SendCommand to {instance} ({region})",
            region=region,
            request={
                "documentName": "AWS-RunShellScript",
                "instanceIds": [instance],
                "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS",
            },
        )
    act(
        cast.at(11, 0),
        "cloudtrail",
        "PutEventSelectors",
        backdoor,
        "PutEventSelectors: data events dropped",
        request={
            "trailName": "main",
            "eventSelectors": [
                {"readWriteType": "WriteOnly", "includeManagementEvents": True, "dataResources": []}
            ],
        },
    )
    act(
        cast.at(11, 1),
        "ec2",
        "DeleteFlowLogs",
        backdoor,
        "DeleteFlowLogs in eu-west-1",
        region=WEST,
        request={"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0eu0demo", "tag": 1}}},
    )
    act(
        cast.at(11, 2),
        "cloudtrail",
        "StopLogging",
        backdoor,
        "StopLogging on the trail",
        request={"name": f"arn:aws:cloudtrail:{EAST}:{cast.account}:trail/main"},
    )


def _flows(cast: Cast, rng: random.Random, flow_log: str) -> list[tuple[str, bytes]]:
    """The ``prod`` VPC's flow log (default format, S3, 10-minute files)."""
    header = (
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol "
        "packets bytes start end action log-status\n"
    )
    lines: list[tuple[int, str]] = []
    web = "10.20.1.25"

    def flow(
        start: datetime,
        src: str,
        dst: str,
        sport: int,
        dport: int,
        packets: int,
        nbytes: int,
        action: str = "ACCEPT",
        eni: str = "eni-0a1b2c3d4e5f60718",
    ) -> None:
        s = int(start.timestamp())
        lines.append(
            (
                s,
                f"2 {cast.account} {eni} {src} {dst} {sport} {dport} 6 {packets} "
                f"{nbytes} {s} {s + 60} {action} OK\n",
            )
        )

    for _ in range(1500):
        when = cast.at(9, 0) + timedelta(seconds=rng.randrange(4 * 3600))
        octets = (rng.choice([198, 203, 100]), rng.randrange(1, 255), rng.randrange(255))
        client = "{}.{}.{}.".format(*octets) + str(rng.randrange(1, 255))
        flow(
            when,
            client,
            web,
            rng.randrange(32768, 61000),
            443,
            rng.randrange(5, 40),
            rng.randrange(2000, 90000),
        )
    for _ in range(120):  # internet noise at the SSH port, refused
        when = cast.at(9, 0) + timedelta(seconds=rng.randrange(4 * 3600))
        flow(
            when,
            f"45.{rng.randrange(1, 255)}.{rng.randrange(255)}.{rng.randrange(1, 255)}",
            web,
            rng.randrange(32768, 61000),
            22,
            1,
            44,
            "REJECT",
        )
    for k in range(6):  # the exfiltration: 6 minutes of uploads, 700-900 MB each
        flow(
            cast.at(10, 45 + k),
            web,
            cast.exfil_ip,
            50412,
            443,
            600_000 + 1000 * k,
            rng.randrange(700_000_000, 900_000_000),
        )
    lines.sort()
    files: dict[datetime, list[str]] = {}
    for s, line in lines:
        when = datetime.fromtimestamp(s, UTC)
        slot = when.replace(minute=when.minute // 10 * 10, second=0) + timedelta(minutes=10)
        files.setdefault(slot, []).append(line)
    out = []
    for slot, body in sorted(files.items()):
        name = (
            f"{cast.account}_vpcflowlogs_{EAST}_{flow_log}_{slot:%Y%m%dT%H%MZ}_"
            f"{rng.getrandbits(32):08x}.log.gz"
        )
        key = f"AWSLogs/{cast.account}/vpcflowlogs/{EAST}/{slot:%Y/%m/%d}/{name}"
        out.append((key, gzip.compress((header + "".join(body)).encode())))
    return out


def _dns(cast: Cast, rng: random.Random, vpc: str) -> list[tuple[str, bytes]]:
    """Route 53 Resolver query logs of the ``prod`` VPC (JSON lines, 10-minute files)."""
    names = [
        "api.stripe.com.",
        "sqs.us-east-1.amazonaws.com.",
        "s3.us-east-1.amazonaws.com.",
        "db.prod.internal.",
        "cdn.jsdelivr.net.",
        "sts.amazonaws.com.",
    ]
    records: list[tuple[datetime, dict[str, Any]]] = []

    def query(when: datetime, name: str, answer: str | None) -> None:
        records.append(
            (
                when,
                {
                    "version": "1.100000",
                    "account_id": cast.account,
                    "region": EAST,
                    "vpc_id": vpc,
                    "query_timestamp": f"{when:%Y-%m-%dT%H:%M:%SZ}",
                    "query_name": name,
                    "query_type": "A",
                    "query_class": "IN",
                    "rcode": "NOERROR" if answer else "NXDOMAIN",
                    "answers": [{"Rdata": answer, "Type": "A", "Class": "IN"}] if answer else [],
                    "srcaddr": "10.20.1.25",
                    "srcport": str(rng.randrange(32768, 61000)),
                    "transport": "UDP",
                    "srcids": {"instance": cast.web_instance},
                },
            )
        )

    for _ in range(800):
        when = cast.at(9, 0) + timedelta(seconds=rng.randrange(4 * 3600))
        query(
            when,
            rng.choice(names),
            f"52.{rng.randrange(255)}.{rng.randrange(255)}.{rng.randrange(1, 255)}",
        )
    for k in range(6):
        query(cast.at(10, 44, 50) + timedelta(minutes=k), cast.exfil_domain, cast.exfil_ip)
    records.sort(key=lambda r: r[0])
    files: dict[datetime, list[str]] = {}
    for when, record in records:
        slot = when.replace(minute=when.minute // 10 * 10, second=0) + timedelta(minutes=10)
        files.setdefault(slot, []).append(json.dumps(record) + "\n")
    out = []
    for slot, lines in sorted(files.items()):
        tail = f"{rng.getrandbits(32):08x}.log.gz"
        name = f"{cast.account}_vpcdnsquerylogs_{vpc}_{slot:%Y%m%dT%H%MZ}_{tail}"
        key = f"AWSLogs/{cast.account}/vpcdnsquerylogs/{vpc}/{slot:%Y/%m/%d}/{name}"
        out.append((key, gzip.compress("".join(lines).encode())))
    return out


def _s3_access(cast: Cast, rng: random.Random) -> list[tuple[str, bytes]]:
    """Server access logs of the finance bucket (prefix ``finance/``, hourly-ish objects)."""
    owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
    lines: list[tuple[datetime, str]] = []

    def get(when: datetime, key: str, requester: str, ip: str, agent: str) -> None:
        stamp = f"{when:%d/%b/%Y:%H:%M:%S +0000}"
        lines.append(
            (
                when,
                f"{owner} {cast.finance_bucket} [{stamp}] {ip} {requester} "
                f'{rng.getrandbits(64):016X} REST.GET.OBJECT {key} "GET /{key} HTTP/1.1" '
                f"200 - {rng.randrange(20000, 900000)} {rng.randrange(20000, 900000)} "
                f'{rng.randrange(10, 90)} {rng.randrange(5, 40)} "-" "{agent}" - '
                f"{rng.getrandbits(128):032x}= SigV4 ECDHE-RSA-AES128-GCM-SHA256 "
                f"AuthHeader {cast.finance_bucket}.s3.{EAST}.amazonaws.com TLSv1.3 - - -\n",
            )
        )

    app = f"arn:aws:sts::{cast.account}:assumed-role/app-server/i-0f00d1"
    for _ in range(240):
        when = cast.at(9, 0) + timedelta(seconds=rng.randrange(4 * 3600))
        get(
            when,
            f"exports/2024/finance-{rng.randrange(60):04d}.csv",
            app,
            "10.20.1.25",
            "aws-sdk-java/2.25.11 Linux/5.10",
        )
    thief = f"arn:aws:iam::{cast.account}:user/{cast.backdoor_user}"
    for k in range(160):  # the whole export folder, and older years
        get(
            cast.at(10, 30) + timedelta(seconds=4 * k),
            f"exports/{2021 + k // 60}/finance-{k % 60:04d}.csv",
            thief,
            cast.attacker_ip,
            "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-kali3-amd64",
        )
    lines.sort()
    files: dict[datetime, list[str]] = {}
    for when, line in lines:
        slot = when.replace(minute=when.minute // 20 * 20, second=0) + timedelta(minutes=21)
        files.setdefault(slot, []).append(line)
    return [
        (f"finance/{slot:%Y-%m-%d-%H-%M-%S}-{rng.getrandbits(64):016X}", "".join(body).encode())
        for slot, body in sorted(files.items())
    ]


def _findings(session: boto3.Session, cast: Cast) -> list[str]:
    """GuardDuty's findings of the day as Security Hub holds them (ASFF)."""
    made = []
    findings = [
        (
            "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
            8.0,
            "HIGH",
            cast.at(10, 9),
            f"API calls from a known malicious address {cast.attacker_ip}",
            cast.leaked_user,
        ),
        (
            "Persistence:IAMUser/AnomalousBehavior",
            8.0,
            "HIGH",
            cast.at(10, 25),
            f"Anomalous IAM calls by {cast.leaked_user} created user {cast.backdoor_user}",
            cast.leaked_user,
        ),
        (
            "Exfiltration:S3/AnomalousBehavior",
            8.0,
            "HIGH",
            cast.at(10, 40),
            f"Anomalous number of GetObject calls on {cast.finance_bucket}",
            cast.backdoor_user,
        ),
        (
            "Stealth:IAMUser/CloudTrailLoggingDisabled",
            2.0,
            "LOW",
            cast.at(11, 10),
            "CloudTrail trail main was disabled",
            cast.backdoor_user,
        ),
    ]
    detector = "12abc34d567e8fa901bc2d34e56789f0"
    for k, (kind, severity, label, when, title, user) in enumerate(findings):
        fid = f"{k + 1:02d}c7d2e1f0b98a76c5d4e3f2a1b0c9d8"
        stamp = f"{when:%Y-%m-%dT%H:%M:%S.000Z}"
        session.client("securityhub", region_name=EAST).batch_import_findings(
            Findings=[
                {
                    "SchemaVersion": "2018-10-08",
                    "Id": f"arn:aws:guardduty:{EAST}:{cast.account}:detector/{detector}"
                    f"/finding/{fid}",
                    "ProductArn": f"arn:aws:securityhub:{EAST}::product/aws/guardduty",
                    "GeneratorId": f"arn:aws:guardduty:{EAST}:{cast.account}:detector/{detector}",
                    "AwsAccountId": cast.account,
                    "Types": [f"TTPs/{kind}"],
                    "FirstObservedAt": stamp,
                    "LastObservedAt": stamp,
                    "CreatedAt": stamp,
                    "UpdatedAt": stamp,
                    "Severity": {"Label": label, "Normalized": int(severity * 10)},
                    "Title": title,
                    "Description": title,
                    "ProductFields": {"aws/guardduty/service/action/actionType": "AWS_API_CALL"},
                    "Resources": [
                        {
                            "Type": "AwsIamAccessKey",
                            "Id": f"AWS::IAM::AccessKey:{user}",
                            "Details": {"AwsIamAccessKey": {"PrincipalName": user}},
                        }
                    ],
                    "RecordState": "ACTIVE",
                    "Workflow": {"Status": "NEW"},
                }
            ]
        )
        made.append(kind)
    return made


def _resources(built: Emulated, session: boto3.Session) -> tuple[str, str]:
    """What the story needs besides the emulated account: web servers in ``prod``, a batch
    server and a database in eu-west-1, a public DNS zone and a CloudFront distribution (neither
    logging). Returns the ids of a web server and of the batch server."""
    ec2 = session.client("ec2", region_name=EAST)
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [built.prod_vpc]}])[
        "Subnets"
    ][0]["SubnetId"]
    image = "ami-0a1b2c3d4e5f60718"
    web = ec2.run_instances(
        ImageId=image, MinCount=3, MaxCount=3, InstanceType="m5.large", SubnetId=subnet
    )["Instances"]
    west = session.client("ec2", region_name=WEST)
    eu_subnet = west.create_subnet(VpcId=built.eu_vpc, CidrBlock="10.30.1.0/24")["Subnet"]
    batch = west.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="c5.xlarge",
        SubnetId=eu_subnet["SubnetId"],
    )["Instances"][0]
    session.client("rds", region_name=WEST).create_db_instance(
        DBInstanceIdentifier="billing",
        Engine="postgres",
        DBInstanceClass="db.t3.medium",
        MasterUsername="billing",
        MasterUserPassword="emulated-only-1",
        AllocatedStorage=20,
    )
    session.client("route53").create_hosted_zone(Name="shop.example.", CallerReference="demo")
    session.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "demo",
            "Comment": "shop",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "alb",
                        "DomainName": "shop.example.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "https-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "alb",
                "ViewerProtocolPolicy": "https-only",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
            },
        }
    )
    return web[0]["InstanceId"], batch["InstanceId"]


def plant(built: Emulated, day: date, seed: int, session: boto3.Session) -> Cast:
    """Write the story's logs into the emulated account (and apply what the intruder changed:
    data events dropped, trail stopped). Returns the cast, with the attacker's actions."""
    rng = random.Random(seed)
    cast = Cast(built.account, day, finance_bucket=f"finance-exports-{built.account}")
    cast.leaked_key, cast.backdoor_key = _key(rng), _key(rng)
    cast.web_instance, cast.batch_instance = _resources(built, session)
    s3 = session.client("s3", region_name=EAST)
    s3.create_bucket(Bucket=cast.finance_bucket)
    s3.put_bucket_logging(
        Bucket=cast.finance_bucket,
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": built.access_log_bucket, "TargetPrefix": "finance/"}
        },
    )
    trail = Trail(cast, rng)
    _background(trail, cast, rng)
    _attack(trail, cast, rng)
    stopped = cast.at(11, 2, 30)
    trail.records = [r for r in trail.records if r["eventTime"] <= f"{stopped:%Y-%m-%dT%H:%M:%SZ}"]
    for key, body in trail.files():
        s3.put_object(Bucket=built.trail_bucket, Key=key, Body=body)
    flow_log = session.client("ec2", region_name=EAST).describe_flow_logs()["FlowLogs"][0][
        "FlowLogId"
    ]
    for key, body in (
        _flows(cast, rng, flow_log) + _dns(cast, rng, built.prod_vpc) + _s3_access(cast, rng)
    ):
        bucket = built.access_log_bucket
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    _findings(session, cast)
    ct = session.client("cloudtrail", region_name=EAST)
    ct.put_event_selectors(
        TrailName="main",
        EventSelectors=[
            {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": []}
        ],
    )
    ct.stop_logging(Name="main")
    cast.actions.sort()
    return cast
