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
    undated: bool | None = None  # True: keys carry no date folders under the prefix (a
    # Firehose custom prefix with !{timestamp:...}): the whole prefix is listed

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
                   _cloudfront, _guardduty_exports, _waf, _log_groups, _apis):  # fmt: skip
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


def _guardduty_exports(account: Account) -> Iterator[Location]:
    """Findings exported to S3: ``[prefix/]AWSLogs/<account>/GuardDuty/<Region>/YYYY/MM/DD/``,
    kept as long as the bucket keeps them (the API keeps 90 days).
    https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_exportfindings.html"""
    for region in account.regions:
        for key, answer in account.each(region, "guardduty.DescribePublishingDestination").items():
            if answer.get("DestinationType") != "S3":
                continue
            properties = answer.get("DestinationProperties") or {}
            if not properties.get("DestinationArn"):
                continue
            bucket, prefix = _bucket_of(properties["DestinationArn"])
            yield Location("guardduty", account.id, region, "s3", key.split("/", 1)[0],
                           bucket=bucket,
                           prefix=_join(prefix, "AWSLogs", account.id, "GuardDuty", region),
                           kms_key=properties.get("KmsKeyArn"))  # fmt: skip


def _firehose_to_s3(account: Account) -> dict[str, tuple[str, str, str, str | None]]:
    """Delivery stream ARN -> (Region, bucket ARN, prefix, KMS key) of its S3 destination."""
    found = {}
    for region in account.regions:
        for answer in account.each(region, "firehose.DescribeDeliveryStream").values():
            stream = answer.get("DeliveryStreamDescription") or {}
            for destination in stream.get("Destinations") or []:
                s3 = (destination.get("ExtendedS3DestinationDescription")
                      or destination.get("S3DestinationDescription"))  # fmt: skip
                if s3 and s3.get("BucketARN") and stream.get("DeliveryStreamARN"):
                    kms = ((s3.get("EncryptionConfiguration") or {}).get("KMSEncryptionConfig")
                           or {}).get("AWSKMSKeyARN")  # fmt: skip
                    found[stream["DeliveryStreamARN"]] = (
                        region,
                        s3["BucketARN"],
                        s3.get("Prefix") or "",
                        kms,
                    )
    return found


def _waf(account: Account) -> Iterator[Location]:
    """Web ACL logs sent to S3 (``AWSLogs/<account>/WAFLogs/<Region>/<web ACL>/YYYY/MM/dd/HH/mm/``)
    or through a Firehose stream to S3 (``<prefix>YYYY/MM/DD/HH/`` by default); logs sent to
    CloudWatch Logs are found with the log groups.
    https://docs.aws.amazon.com/waf/latest/developerguide/logging-s3.html,
    https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html"""
    streams = _firehose_to_s3(account)
    asked = [(r, "wafv2.GetLoggingConfiguration") for r in account.regions]
    for region, call in [*asked, (GLOBAL, "wafv2.GetLoggingConfiguration#cloudfront")]:
        for acl_arn, answer in account.each(region, call).items():
            config = answer.get("LoggingConfiguration") or {}
            acl = acl_arn.split("/")[-2] if acl_arn.count("/") >= 2 else acl_arn
            where = "cloudfront" if region == GLOBAL else region
            for destination in config.get("LogDestinationConfigs") or []:
                if ":s3:::" in destination:
                    bucket, prefix = _bucket_of(destination)
                    folder = _join(prefix, "AWSLogs", account.id, "WAFLogs", where, acl)
                    yield Location("waf", account.id, region, "s3", acl, bucket=bucket,
                                   prefix=folder)  # fmt: skip
                elif destination in streams:
                    stream_region, bucket_arn, fixed, kms = streams[destination]
                    bucket, _ = _bucket_of(bucket_arn)
                    undated = "!{" in fixed  # a custom prefix: list all of its fixed part
                    yield Location("waf", account.id, stream_region, "s3",
                                   f"{acl} via {destination.rsplit('/', 1)[-1]}", bucket=bucket,
                                   prefix=fixed.split("!{", 1)[0], kms_key=kms,
                                   undated=True if undated else None)  # fmt: skip


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
