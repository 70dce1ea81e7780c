"""Where each log source's evidence is, read from an inventory: the log-location map.

One :class:`Location` per place a responder would read: an S3 bucket and prefix (with the KMS
key that encrypts it), a CloudWatch Logs log group, or an API that keeps events itself
(CloudTrail event history, GuardDuty and Security Hub findings). Collection starts from it;
the evidence access check asks whether the responder role can read every one.
Key layouts: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html,
https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from awsir.readiness.model import GLOBAL, Account


@dataclass(frozen=True)
class Location:
    source: str  # catalog id
    account: str
    region: str
    kind: str  # s3, cloudwatch_logs, api
    producer: str  # the trail, flow log, bucket... whose logs these are
    bucket: str | None = None
    prefix: str | None = None
    kms_key: str | None = None
    log_group: str | None = None
    api: str | None = None  # service:Operation that returns the events

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _join(*parts: str | None) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/")) + "/"


def _bucket_of(arn: str) -> tuple[str, str | None]:
    """(bucket, prefix) of ``arn:aws:s3:::bucket/prefix``."""
    bucket, _, prefix = arn.split(":::", 1)[-1].partition("/")
    return bucket, prefix or None


def _group_of(arn: str) -> str:
    """The log group name of ``arn:aws:logs:region:account:log-group:NAME[:*]``."""
    name = arn.split(":log-group:", 1)[-1]
    return name[:-2] if name.endswith(":*") else name


def locations(account: Account) -> list[Location]:
    found: list[Location] = []
    for finder in (_cloudtrail, _flow_logs, _s3_access, _load_balancers, _resolver, _config,
                   _cloudfront, _log_groups, _apis):  # fmt: skip
        found.extend(finder(account))
    return found


def _cloudtrail(account: Account) -> Iterator[Location]:
    me = account.id
    for region in account.regions:
        for trail in account.answer(region, "cloudtrail.DescribeTrails").get("trailList") or []:
            if trail.get("HomeRegion", region) != region:
                continue
            prefix = _join(trail.get("S3KeyPrefix"), "AWSLogs", me, "CloudTrail")
            if trail.get("IsOrganizationTrail"):  # AWSLogs/<org id>/<account>/: any org id
                prefix = _join(trail.get("S3KeyPrefix"), "AWSLogs")
            if trail.get("S3BucketName"):
                yield Location("cloudtrail_trail", me, region, "s3", trail["TrailARN"],
                               bucket=trail["S3BucketName"], prefix=prefix,
                               kms_key=trail.get("KmsKeyId"))  # fmt: skip
            if trail.get("S3BucketName") and trail.get("LogFileValidationEnabled"):
                digests = prefix.replace("/CloudTrail/", "/CloudTrail-Digest/")
                yield Location("cloudtrail_digest", me, region, "s3", trail["TrailARN"],
                               bucket=trail["S3BucketName"], prefix=digests)  # fmt: skip
            if trail.get("CloudWatchLogsLogGroupArn"):
                group = _group_of(trail["CloudWatchLogsLogGroupArn"])
                yield Location("cloudtrail_trail", me, region, "cloudwatch_logs", trail["TrailARN"],
                               log_group=group)  # fmt: skip


def _flow_logs(account: Account) -> Iterator[Location]:
    for region in account.regions:
        for flow in account.answer(region, "ec2.DescribeFlowLogs").get("FlowLogs") or []:
            producer = f"{flow.get('FlowLogId')} ({flow.get('ResourceId')})"
            if flow.get("LogDestinationType") == "s3" and flow.get("LogDestination"):
                bucket, prefix = _bucket_of(flow["LogDestination"])
                prefix = _join(prefix, "AWSLogs", account.id, "vpcflowlogs", region)
                yield Location("vpc_flow", account.id, region, "s3", producer, bucket=bucket,
                               prefix=prefix)  # fmt: skip
            elif flow.get("LogGroupName"):
                yield Location("vpc_flow", account.id, region, "cloudwatch_logs", producer,
                               log_group=flow["LogGroupName"])  # fmt: skip


def _s3_access(account: Account) -> Iterator[Location]:
    for bucket, answer in account.each(GLOBAL, "s3.GetBucketLogging").items():
        target = answer.get("LoggingEnabled") or {}
        if target.get("TargetBucket"):
            yield Location("s3_access", account.id, GLOBAL, "s3", bucket,
                           bucket=target["TargetBucket"],
                           prefix=target.get("TargetPrefix") or None)  # fmt: skip


def _load_balancers(account: Account) -> Iterator[Location]:
    for region in account.regions:
        for arn, answer in account.each(region, "elbv2.DescribeLoadBalancerAttributes").items():
            values = {a["Key"]: a.get("Value") for a in answer.get("Attributes") or []}
            if values.get("access_logs.s3.enabled") == "true" and values.get(
                "access_logs.s3.bucket"
            ):
                prefix = _join(values.get("access_logs.s3.prefix"), "AWSLogs", account.id,
                               "elasticloadbalancing", region)  # fmt: skip
                source = "nlb" if "/net/" in arn else "alb"
                yield Location(source, account.id, region, "s3", arn,
                               bucket=values["access_logs.s3.bucket"], prefix=prefix)  # fmt: skip
        for name, answer in account.each(region, "elb.DescribeLoadBalancerAttributes").items():
            log = (answer.get("LoadBalancerAttributes") or {}).get("AccessLog") or {}
            if log.get("Enabled") and log.get("S3BucketName"):
                prefix = _join(log.get("S3BucketPrefix"), "AWSLogs", account.id,
                               "elasticloadbalancing", region)  # fmt: skip
                yield Location("elb_classic", account.id, region, "s3", name,
                               bucket=log["S3BucketName"], prefix=prefix)  # fmt: skip


def _resolver(account: Account) -> Iterator[Location]:
    for region in account.regions:
        configs = account.answer(region, "route53resolver.ListResolverQueryLogConfigs")
        for config in configs.get("ResolverQueryLogConfigs") or []:
            destination = config.get("DestinationArn") or ""
            if destination.startswith("arn:aws:s3:::"):
                bucket, prefix = _bucket_of(destination)
                prefix = _join(prefix, "AWSLogs", account.id, "vpcdnsquerylogs")
                yield Location("route53_resolver_query", account.id, region, "s3", config["Id"],
                               bucket=bucket, prefix=prefix)  # fmt: skip
            elif ":log-group:" in destination:
                yield Location("route53_resolver_query", account.id, region, "cloudwatch_logs",
                               config["Id"], log_group=_group_of(destination))  # fmt: skip


def _config(account: Account) -> Iterator[Location]:
    for region in account.regions:
        channels = account.answer(region, "config.DescribeDeliveryChannels")
        for channel in channels.get("DeliveryChannels") or []:
            if channel.get("s3BucketName"):
                prefix = _join(channel.get("s3KeyPrefix"), "AWSLogs", account.id, "Config", region)
                yield Location("config", account.id, region, "s3", channel.get("name", "default"),
                               bucket=channel["s3BucketName"], prefix=prefix,
                               kms_key=channel.get("s3KmsKeyArn"))  # fmt: skip


def _cloudfront(account: Account) -> Iterator[Location]:
    """Standard logs: ``<bucket>.s3.amazonaws.com``, keys ``<prefix><distribution id>.<date>``.
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html"""
    for dist, answer in account.each(GLOBAL, "cloudfront.GetDistributionConfig").items():
        logging = (answer.get("DistributionConfig") or {}).get("Logging") or {}
        if logging.get("Enabled") and logging.get("Bucket"):
            bucket = logging["Bucket"].split(".s3", 1)[0]
            yield Location("cloudfront_standard", account.id, GLOBAL, "s3", dist, bucket=bucket,
                           prefix=f"{logging.get('Prefix') or ''}{dist}.")  # fmt: skip


def _log_groups(account: Account) -> Iterator[Location]:
    for region in account.regions:
        for group in account.answer(region, "logs.DescribeLogGroups").get("logGroups") or []:
            yield Location("cloudwatch_logs", account.id, region, "cloudwatch_logs",
                           group["logGroupName"], log_group=group["logGroupName"],
                           kms_key=group.get("kmsKeyId"))  # fmt: skip


def _apis(account: Account) -> Iterator[Location]:
    """Events kept by the services themselves, read through their APIs."""
    for region in account.regions:
        yield Location("cloudtrail_event_history", account.id, region, "api", "CloudTrail",
                       api="cloudtrail:LookupEvents")  # fmt: skip
        for detector in account.answer(region, "guardduty.ListDetectors").get("DetectorIds") or []:
            yield Location("guardduty", account.id, region, "api", detector,
                           api="guardduty:GetFindings")  # fmt: skip
        if account.answer(region, "securityhub.DescribeHub").ok:
            yield Location("securityhub", account.id, region, "api", "Security Hub",
                           api="securityhub:GetFindings")  # fmt: skip
