"""An emulated AWS account with known logging gaps, built in a local moto server: what the tests
and the demo scan. It makes write calls, so it refuses any endpoint but a local one.

Two Regions. What is there, and the gaps a scan must find:

- a multi-Region trail, logging, with log file validation; not KMS-encrypted, no CloudWatch
  Logs delivery; its bucket has access logs but a lifecycle rule expiring logs after 30 days;
- buckets: the trail's, the access-log bucket (not logged itself), a data bucket with no access
  logs;
- us-east-1: the ``prod`` VPC with a flow log of all traffic in the default format (lacks the
  investigation fields) and Resolver query logging; the default VPC has neither;
- eu-west-1: a VPC with no flow log and no query logging;
- GuardDuty in us-east-1 only, not exporting findings; AWS Config recording everything in
  us-east-1 only;
- log groups: one kept 30 days (eu-west-1), one never expiring (us-east-1);
- an Application Load Balancer without access logs (us-east-1);
- a Lambda function whose role has no policy (it cannot write its logs).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import boto3

REGIONS = ("us-east-1", "eu-west-1")


class NotEmulated(RuntimeError):
    """The endpoint is not a local emulator: awsir never writes to a real account."""


@dataclass(frozen=True)
class Emulated:
    account: str
    trail_bucket: str
    access_log_bucket: str
    data_bucket: str
    prod_vpc: str
    default_vpc: str
    eu_vpc: str
    trail_arn: str
    alb_arn: str
    waf_bucket: str


def require_local_endpoint() -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if urlparse(endpoint).hostname not in ("127.0.0.1", "localhost"):
        raise NotEmulated(
            "the emulated account is built only in a local moto server "
            f"(AWS_ENDPOINT_URL is {endpoint or 'unset'})"
        )
    return endpoint


def build(session: boto3.Session | None = None) -> Emulated:
    require_local_endpoint()
    session = session or boto3.Session(region_name=REGIONS[0])
    east, west = REGIONS

    def c(service: str, region: str = east) -> Any:
        return session.client(service, region_name=region)

    account = c("sts").get_caller_identity()["Account"]
    trail_bucket = f"trail-logs-{account}"
    access_logs = f"access-logs-{account}"
    data = f"customer-data-{account}"
    s3 = c("s3")
    for bucket in (trail_bucket, access_logs, data):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_acl(Bucket=access_logs, ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket=trail_bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": access_logs, "TargetPrefix": "t/"}},
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=trail_bucket,
        LifecycleConfiguration={"Rules": [{"ID": "expire", "Status": "Enabled",
                                           "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}]},
    )  # fmt: skip
    s3.put_bucket_policy(
        Bucket=trail_bucket, Policy=json.dumps(_trail_bucket_policy(trail_bucket, account))
    )
    trail = c("cloudtrail").create_trail(
        Name="main", S3BucketName=trail_bucket, IsMultiRegionTrail=True,
        EnableLogFileValidation=True, IncludeGlobalServiceEvents=True,
    )  # fmt: skip
    c("cloudtrail").start_logging(Name="main")

    ec2 = c("ec2")
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0][
        "VpcId"
    ]
    prod = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[prod], Tags=[{"Key": "Name", "Value": "prod"}])
    made = ec2.create_flow_logs(
        ResourceIds=[prod], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{access_logs}",
    )  # fmt: skip
    if made.get("Unsuccessful"):
        raise RuntimeError(f"the emulator refused the flow log: {made['Unsuccessful']}")
    resolver = c("route53resolver")
    config_id = resolver.create_resolver_query_log_config(
        Name="dns", DestinationArn=f"arn:aws:s3:::{access_logs}", CreatorRequestId="awsir-demo"
    )["ResolverQueryLogConfig"]["Id"]
    resolver.associate_resolver_query_log_config(
        ResolverQueryLogConfigId=config_id, ResourceId=prod
    )
    eu_vpc = c("ec2", west).create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]

    c("guardduty").create_detector(Enable=True)
    config = c("config")
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": f"arn:aws:iam::{account}:role/config",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
    })  # fmt: skip
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": access_logs})
    config.start_configuration_recorder(ConfigurationRecorderName="default")

    c("logs").create_log_group(logGroupName="/aws/eks/prod/cluster")
    c("logs", west).create_log_group(logGroupName="/aws/lambda/orders")
    c("logs", west).put_retention_policy(logGroupName="/aws/lambda/orders", retentionInDays=30)

    role = c("iam").create_role(RoleName="orders-fn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}],
    }))["Role"]["Arn"]  # fmt: skip
    c("lambda").create_function(
        FunctionName="orders", Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": _tiny_zip()},
    )  # fmt: skip
    subnets = [
        ec2.create_subnet(VpcId=prod, CidrBlock=f"10.20.{k}.0/24", AvailabilityZone=f"{east}{z}")
        for k, z in ((1, "a"), (2, "b"))
    ]
    alb = c("elbv2").create_load_balancer(
        Name="shop", Subnets=[n["Subnet"]["SubnetId"] for n in subnets], Type="application"
    )
    waf_bucket = f"aws-waf-logs-{account}"
    s3.create_bucket(Bucket=waf_bucket)
    _web_acls(c, account, waf_bucket)
    c("securityhub").enable_security_hub(EnableDefaultStandards=False)
    return Emulated(
        account, trail_bucket, access_logs, data, prod, default_vpc, eu_vpc,
        trail["TrailARN"], alb["LoadBalancers"][0]["LoadBalancerArn"], waf_bucket,
    )  # fmt: skip


def _web_acls(c: Any, account: str, bucket: str) -> None:
    """Two regional web ACLs: ``shop`` logs straight to S3, ``api`` through a Firehose stream
    (prefix ``waf/``) to the same bucket."""
    wafv2 = c("wafv2")
    stream = c("firehose").create_delivery_stream(
        DeliveryStreamName="aws-waf-logs-api", DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{account}:role/firehose",
            "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": "waf/",
        },
    )["DeliveryStreamARN"]  # fmt: skip
    for name, destination in (("shop", f"arn:aws:s3:::{bucket}"), ("api", stream)):
        acl = wafv2.create_web_acl(
            Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}},
            VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                              "MetricName": name},
        )["Summary"]["ARN"]  # fmt: skip
        wafv2.put_logging_configuration(
            LoggingConfiguration={"ResourceArn": acl, "LogDestinationConfigs": [destination]}
        )


def _plant_digests(
    s3: Any, built: Emulated, files: dict[str, list[tuple[datetime, str, bytes]]], uris: list[str]
) -> str:
    """Digest files for the planted CloudTrail files, one per file at the next full hour, chained
    per Region and signed as CloudTrail signs them, with a key made here. Returns the public key
    (DER, hex) under its fingerprint: ``fingerprint:hexkey``.
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html"""
    import gzip
    import hashlib

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.PKCS1)  # fmt: skip
    fingerprint = hashlib.md5(der).hexdigest()  # an identifier of the key, as AWS's is
    for region, entries in files.items():
        previous: dict[str, Any] = {}
        for when, log_key, raw in sorted(entries):
            end = when.replace(minute=0, second=0) + timedelta(hours=1)
            name = (f"{built.account}_CloudTrail-Digest_{region}_main_{region}_"
                    f"{end:%Y%m%dT%H%M%SZ}.json.gz")  # fmt: skip
            digest_key = f"AWSLogs/{built.account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/{name}"
            start = end - timedelta(hours=1)
            log = {"s3Bucket": built.trail_bucket, "s3Object": log_key, "hashAlgorithm": "SHA-256",
                   "hashValue": hashlib.sha256(raw).hexdigest()}  # fmt: skip
            digest = {
                "awsAccountId": built.account, "digestStartTime": f"{start:%Y-%m-%dT%H:%M:%SZ}",
                "digestEndTime": f"{end:%Y-%m-%dT%H:%M:%SZ}", "digestS3Bucket": built.trail_bucket,
                "digestS3Object": digest_key, "digestPublicKeyFingerprint": fingerprint,
                "digestSignatureAlgorithm": "SHA256withRSA",
                "previousDigestS3Bucket": previous.get("bucket"),
                "previousDigestS3Object": previous.get("key"),
                "previousDigestHashValue": previous.get("hash"),
                "previousDigestHashAlgorithm": "SHA-256",
                "previousDigestSignature": previous.get("signature"), "logFiles": [log],
            }  # fmt: skip
            body = json.dumps(digest).encode()
            sha = hashlib.sha256(body).hexdigest()
            message = (f"{digest['digestEndTime']}\n{built.trail_bucket}/{digest_key}\n{sha}\n"
                       f"{previous.get('signature') or 'null'}").encode()  # fmt: skip
            signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()
            meta = {"signature": signature, "signature-algorithm": "SHA256withRSA"}
            s3.put_object(Bucket=built.trail_bucket, Key=digest_key, Body=gzip.compress(body),
                          Metadata=meta)  # fmt: skip
            uris.append(f"s3://{built.trail_bucket}/{digest_key}")
            previous = {"bucket": built.trail_bucket, "key": digest_key, "hash": sha,
                        "signature": signature}  # fmt: skip
    return f"{fingerprint}:{der.hex()}"


def _tiny_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def _trail_bucket_policy(bucket: str, account: str) -> dict[str, object]:
    """The bucket policy CloudTrail needs to deliver (AWS's documented one).
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html"""
    service = {"Service": "cloudtrail.amazonaws.com"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AclCheck", "Effect": "Allow", "Principal": service,
             "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
            {"Sid": "Write", "Effect": "Allow", "Principal": service, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
        ],
    }  # fmt: skip


@contextlib.contextmanager
def moto_server() -> Iterator[dict[str, str]]:
    """A moto server on 127.0.0.1 (a free port) in this process, and ``os.environ`` pointing
    boto3 (and subprocesses) at it with throw-away credentials, restored on exit."""
    import logging
    import socket

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto logs every request
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "emulated",
           "AWS_SECRET_ACCESS_KEY": "emulated", "AWS_DEFAULT_REGION": REGIONS[0],
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}  # fmt: skip
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m awsir.emulated [AWSIR ARGS...]``: start a moto server on 127.0.0.1, build the
    emulated account in it with logs planted around two days ago (:func:`plant_logs`), and run
    ``awsir AWSIR ARGS`` (default: ``scan``) against it."""
    import io
    import subprocess
    import sys

    try:
        import moto.server  # noqa: F401
    except ImportError:
        print(
            "the emulated account needs moto[server] (pip install 'moto[server]')", file=sys.stderr
        )
        return 2
    with moto_server() as env:
        built = build(boto3.Session(region_name=REGIONS[0]))
        day = (datetime.now(UTC) - timedelta(days=2)).date()  # CloudWatch refuses old events
        plant_logs(built, day)
        port = env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]
        print(f"emulated account {built.account} in moto on 127.0.0.1:{port} "
              f"({', '.join(REGIONS)}), logs planted around {day}", file=sys.stderr)  # fmt: skip
        args = list(argv if argv is not None else sys.argv[1:]) or ["scan"]
        # moto's server thread prints a line for every call it does not emulate; the command's
        # own output goes to the inherited file descriptors, untouched
        with contextlib.redirect_stdout(io.StringIO()):
            return subprocess.run([sys.executable, "-m", "awsir", *args], check=False).returncode


def _waf_logs(built: Emulated, when: datetime) -> list[tuple[str, bytes]]:
    """One WAF log record delivered at ``when`` by each web ACL: ``shop`` in WAF's own S3
    layout, ``api`` in Firehose's (``<prefix>YYYY/MM/DD/HH/<stream>-1-<time>-<id>``).
    https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html"""
    import gzip

    region = REGIONS[0]
    out = []
    for acl in ("shop", "api"):
        record = {"timestamp": int((when - timedelta(minutes=2)).timestamp() * 1000),
                  "formatVersion": 1, "webaclId": f"arn:aws:wafv2:{region}:{built.account}:"
                  f"regional/webacl/{acl}/0000", "terminatingRuleId": "Default_Action",
                  "terminatingRuleType": "REGULAR", "action": "ALLOW",
                  "httpSourceName": "ALB", "httpSourceId": f"{built.account}-app/shop/1",
                  "httpRequest": {"clientIp": "198.51.100.23", "country": "NL",
                                  "headers": [{"name": "Host", "value": "shop.example.com"}],
                                  "uri": f"/{acl}/cart", "args": "", "httpVersion": "HTTP/1.1",
                                  "httpMethod": "GET",
                                  "requestId": f"{acl}-{when:%H%M}"}}  # fmt: skip
        body = gzip.compress((json.dumps(record) + "\n").encode())
        if acl == "shop":
            name = f"{built.account}_waflogs_{region}_shop_{when:%Y%m%dT%H%MZ}_0a1b2c3d.log.gz"
            key = (f"AWSLogs/{built.account}/WAFLogs/{region}/shop/"
                   f"{when:%Y/%m/%d/%H/%M}/{name}")  # fmt: skip
        else:
            key = f"waf/{when:%Y/%m/%d/%H}/aws-waf-logs-api-1-{when:%Y-%m-%d-%H-%M-%S}-0f1e2d3c"
        out.append((key, body))
    return out


def _security_hub_finding(session: boto3.Session, built: Emulated, when: datetime) -> str:
    """A Security Hub finding (ASFF) updated at ``when``, imported into us-east-1; its id."""
    stamp = f"{when:%Y-%m-%dT%H:%M:%S.000Z}"
    finding_id = f"awsir-emulated/{when:%Y%m%dT%H%M}"
    session.client("securityhub", region_name=REGIONS[0]).batch_import_findings(Findings=[{
        "SchemaVersion": "2018-10-08", "Id": finding_id,
        "ProductArn": f"arn:aws:securityhub:{REGIONS[0]}:{built.account}:product/"
                      f"{built.account}/default",
        "GeneratorId": "awsir-emulated", "AwsAccountId": built.account,
        "Types": ["Unusual Behaviors/User"], "CreatedAt": stamp, "UpdatedAt": stamp,
        "Severity": {"Label": "HIGH"}, "Title": "Console login from an unusual place",
        "Description": "alice signed in from 203.0.113.7",
        "Resources": [{"Type": "AwsIamUser", "Id": f"arn:aws:iam::{built.account}:user/alice"}],
    }])  # fmt: skip
    return finding_id


def plant_logs(
    built: Emulated, day: date, session: boto3.Session | None = None
) -> dict[str, list[str]]:
    """Log files in AWS's key layouts for the day before ``day``, ``day`` and the day after
    (CloudTrail in both Regions' folders of the trail bucket, VPC flow logs in the flow-log
    bucket, WAF logs of two web ACLs, one through Firehose), each at 09:05, 11:55 and 23:50,
    a Security Hub finding updated at each of those times, and CloudWatch Logs events of
    ``day`` at 07:00, 09:00 and 13:00 in /aws/lambda/orders (eu-west-1). Returns the S3 URIs,
    log messages and finding ids planted, for tests to compare with what a collection brings
    back."""
    import gzip

    require_local_endpoint()
    session = session or boto3.Session(region_name=REGIONS[0])
    s3 = session.client("s3", region_name=REGIONS[0])
    planted: dict[str, list[str]] = {"s3": [], "events": [], "digests": [], "findings": []}
    trail_files: dict[str, list[tuple[datetime, str, bytes]]] = {}
    who = {"type": "IAMUser", "arn": f"arn:aws:iam::{built.account}:user/alice",
           "accountId": built.account}  # fmt: skip
    header = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
              "bytes start end action log-status\n")  # fmt: skip
    for offset in (-1, 0, 1):
        d = day + timedelta(days=offset)
        for hh, mm in ((9, 5), (11, 55), (23, 50)):
            when = datetime(d.year, d.month, d.day, hh, mm, tzinfo=UTC)
            stamp = f"{when:%Y%m%dT%H%MZ}"
            for region in REGIONS:
                record = {"eventVersion": "1.09", "eventSource": "s3.amazonaws.com",
                          "eventTime": f"{when - timedelta(minutes=3):%Y-%m-%dT%H:%M:%SZ}",
                          "eventName": "ListBuckets", "awsRegion": region,
                          "sourceIPAddress": "203.0.113.7", "userIdentity": who,
                          "eventID": f"{stamp}-{region}",
                          "recipientAccountId": built.account}  # fmt: skip
                name = f"{built.account}_CloudTrail_{region}_{stamp}_x{hh}{mm}.json.gz"
                key = f"AWSLogs/{built.account}/CloudTrail/{region}/{d:%Y/%m/%d}/{name}"
                raw = json.dumps({"Records": [record]}).encode()
                s3.put_object(Bucket=built.trail_bucket, Key=key, Body=gzip.compress(raw))
                planted["s3"].append(f"s3://{built.trail_bucket}/{key}")
                trail_files.setdefault(region, []).append((when, key, raw))
            start = int((when - timedelta(minutes=10)).timestamp())
            line = (f"2 {built.account} eni-0a1b2c3d 10.20.1.5 198.51.100.9 44321 443 6 10 5000 "
                    f"{start} {start + 60} ACCEPT OK\n")  # fmt: skip
            name = f"{built.account}_vpcflowlogs_{REGIONS[0]}_fl-1_{stamp}_x{hh}{mm}.log.gz"
            key = f"AWSLogs/{built.account}/vpcflowlogs/{REGIONS[0]}/{d:%Y/%m/%d}/{name}"
            body = gzip.compress((header + line).encode())
            s3.put_object(Bucket=built.access_log_bucket, Key=key, Body=body)
            planted["s3"].append(f"s3://{built.access_log_bucket}/{key}")
            for key, body in _waf_logs(built, when):
                s3.put_object(Bucket=built.waf_bucket, Key=key, Body=body)
                planted["s3"].append(f"s3://{built.waf_bucket}/{key}")
            planted["findings"].append(_security_hub_finding(session, built, when))
    planted["public_key"] = [_plant_digests(s3, built, trail_files, planted["digests"])]
    logs = session.client("logs", region_name=REGIONS[1])
    logs.create_log_stream(logGroupName="/aws/lambda/orders", logStreamName="2024/orders/1")
    events = []
    for hh in (7, 9, 13):
        when = datetime(day.year, day.month, day.day, hh, tzinfo=UTC)
        message = f"START RequestId: {hh:02d}-req Version: $LATEST at {when:%H:%M}"
        events.append({"timestamp": int(when.timestamp() * 1000), "message": message})
        planted["events"].append(message)
    logs.put_log_events(logGroupName="/aws/lambda/orders", logStreamName="2024/orders/1",
                        logEvents=events)  # fmt: skip
    return planted


if __name__ == "__main__":
    raise SystemExit(main())
