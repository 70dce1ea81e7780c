"""Every AWS API call the readiness scan makes: read-only, declared once, run by
:mod:`awsir.aws.inventory`.

A call is named ``<service>.<Operation>`` (the boto3 client name and the API operation, as in
the AWS API reference), which is also its key in the snapshot and what checks ask for. A call
with ``each`` is made once per item of an earlier call's answer (the trails of DescribeTrails,
the buckets of ListBuckets...), and its answers are keyed by that item.

Only operations whose names start with a read verb are allowed here; ``tests/test_scan.py``
records every operation a full scan sends and checks the same rule on the wire.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

AGENT = "amazon-cloudwatch-agent"
"""The CloudWatch agent's package name in SSM inventory (AWS:Application)."""
READ_ONLY = re.compile(
    r"^(List|Describe|Get|Lookup|Simulate|Head|Search|Filter|Batch(Get|Describe))"
)


@dataclass(frozen=True)
class Each:
    """Fan out over the items of an earlier call's answer."""

    parent: str  # the earlier call's name
    items: Callable[[dict[str, Any]], list[Any]]  # the items of its answer
    params: Callable[[Any], dict[str, Any]]  # this call's parameters for one item
    key: Callable[[Any], str]  # the item's key in the snapshot (an ARN, a name)
    only: Callable[[Any, str], bool] = lambda item, region: True  # skip items of other Regions
    nested: bool = False  # the parent is itself a fan-out: items are (parent's key, item)


@dataclass(frozen=True)
class Call:
    name: str  # service.Operation
    scope: str = "regional"  # or "global": once per account (IAM, S3 listing, Route 53...),
    # or "derived": made by a later step from other answers (the evidence access simulation)
    params: dict[str, Any] = field(default_factory=dict)
    each: Each | None = None

    @property
    def service(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def operation(self) -> str:
        """The API operation (a name may add ``#variant`` when one operation is asked twice
        with different parameters)."""
        return self.name.split(".", 1)[1].split("#", 1)[0]

    def __post_init__(self) -> None:
        if not READ_ONLY.match(self.operation):
            raise ValueError(f"{self.name}: the scan makes read-only calls only")


def _list(key: str) -> Callable[[dict[str, Any]], list[Any]]:
    return lambda answer: list(answer.get(key) or [])


def _by(parent: str, listed: str, param: str, field: str | None = None) -> Each:
    """Fan out over the list ``listed`` of ``parent``'s answer: one call per item, with
    ``{param: item[field]}`` (or the item itself, a list of names), keyed the same way."""
    pick: Callable[[Any], str] = (lambda x: x) if field is None else (lambda x: x[field])
    return Each(parent, _list(listed), lambda x: {param: pick(x)}, pick)


def _home(item: dict[str, Any], region: str) -> bool:
    return bool(item.get("HomeRegion", region) == region)


def _trail(arg: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The parameters naming one trail: ``{arg: its ARN}``."""
    return lambda trail: {arg: trail["TrailARN"]}


CALLS: list[Call] = [
    Call("sts.GetCallerIdentity", "global"),
    # CloudTrail: trails seen from each Region (shadow copies of multi-Region and organization
    # trails included), their status and selectors asked once, in their home Region
    Call("cloudtrail.DescribeTrails", params={"includeShadowTrails": True}),
    *(
        Call(
            f"cloudtrail.{op}",
            each=Each(
                "cloudtrail.DescribeTrails",
                _list("trailList"),
                _trail(arg),
                lambda t: t["TrailARN"],
                _home,
            ),
        )
        for op, arg in (
            ("GetTrailStatus", "Name"),
            ("GetEventSelectors", "TrailName"),
            ("GetInsightSelectors", "TrailName"),
        )
    ),
    Call("ec2.DescribeVpcs"),
    Call("ec2.DescribeFlowLogs"),
    Call("ec2.DescribeTransitGateways"),
    Call("s3.ListBuckets", "global"),
    *(
        Call(
            f"s3.{op}",
            "global",
            each=_by("s3.ListBuckets", "Buckets", "Bucket", "Name"),
        )
        for op in (
            "GetBucketLogging",
            "GetBucketPolicyStatus",
            "GetPublicAccessBlock",
            "GetBucketLifecycleConfiguration",
            "GetObjectLockConfiguration",
            "GetBucketEncryption",
        )
    ),
    Call("guardduty.ListDetectors"),
    *(
        Call(
            f"guardduty.{op}",
            each=_by("guardduty.ListDetectors", "DetectorIds", "DetectorId"),
        )
        for op in ("GetDetector", "ListPublishingDestinations")
    ),
    Call(
        # each export of a detector's findings: its bucket, prefix and KMS key
        "guardduty.DescribePublishingDestination",
        each=Each(
            "guardduty.ListPublishingDestinations",
            _list("Destinations"),
            lambda pair: {"DetectorId": pair[0], "DestinationId": pair[1]["DestinationId"]},
            lambda pair: f"{pair[0]}/{pair[1]['DestinationId']}",
            nested=True,
        ),
    ),
    Call("securityhub.DescribeHub"),
    Call("config.DescribeConfigurationRecorders"),
    Call("config.DescribeConfigurationRecorderStatus"),
    Call("config.DescribeDeliveryChannels"),
    Call("accessanalyzer.ListAnalyzers"),
    Call("logs.DescribeLogGroups"),
    Call("route53.ListHostedZones", "global"),
    Call("route53.ListQueryLoggingConfigs", "global"),
    Call("route53resolver.ListResolverQueryLogConfigs"),
    Call("route53resolver.ListResolverQueryLogConfigAssociations"),
    Call("elbv2.DescribeLoadBalancers"),
    Call(
        "elbv2.DescribeLoadBalancerAttributes",
        each=_by(
            "elbv2.DescribeLoadBalancers", "LoadBalancers", "LoadBalancerArn", "LoadBalancerArn"
        ),
    ),
    Call("elb.DescribeLoadBalancers"),
    Call(
        "elb.DescribeLoadBalancerAttributes",
        each=_by(
            "elb.DescribeLoadBalancers",
            "LoadBalancerDescriptions",
            "LoadBalancerName",
            "LoadBalancerName",
        ),
    ),
    Call("wafv2.ListWebACLs", params={"Scope": "REGIONAL"}),
    # web ACLs of CloudFront distributions: one global list, asked in us-east-1
    Call("wafv2.ListWebACLs#cloudfront", "global", params={"Scope": "CLOUDFRONT"}),
    Call(
        "wafv2.GetLoggingConfiguration#cloudfront",
        "global",
        each=_by("wafv2.ListWebACLs#cloudfront", "WebACLs", "ResourceArn", "ARN"),
    ),
    Call(
        "wafv2.GetLoggingConfiguration",
        each=_by("wafv2.ListWebACLs", "WebACLs", "ResourceArn", "ARN"),
    ),
    # Firehose streams: where WAF logs (and other streamed logs) land in S3; ListDeliveryStreams
    # has no paginator nor shared token, so one page of the maximum size
    Call("firehose.ListDeliveryStreams", params={"Limit": 10000}),
    Call(
        "firehose.DescribeDeliveryStream",
        each=_by("firehose.ListDeliveryStreams", "DeliveryStreamNames", "DeliveryStreamName"),
    ),
    Call("eks.ListClusters"),
    Call(
        "eks.DescribeCluster",
        each=_by("eks.ListClusters", "clusters", "name"),
    ),
    Call("rds.DescribeDBInstances"),
    Call("redshift.DescribeClusters"),
    Call(
        "redshift.DescribeLoggingStatus",
        each=_by("redshift.DescribeClusters", "Clusters", "ClusterIdentifier", "ClusterIdentifier"),
    ),
    Call("apigateway.GetRestApis"),
    Call(
        "apigateway.GetStages",
        each=_by("apigateway.GetRestApis", "items", "restApiId", "id"),
    ),
    Call("apigatewayv2.GetApis"),
    Call(
        "apigatewayv2.GetStages",
        each=_by("apigatewayv2.GetApis", "Items", "ApiId", "ApiId"),
    ),
    Call("ecs.ListTaskDefinitionFamilies", params={"status": "ACTIVE"}),
    Call(
        "ecs.DescribeTaskDefinition",
        # a family's latest ACTIVE revision
        each=_by("ecs.ListTaskDefinitionFamilies", "families", "taskDefinition"),
    ),
    Call("elasticbeanstalk.DescribeEnvironments"),
    Call(
        "elasticbeanstalk.DescribeConfigurationSettings",
        each=Each(
            "elasticbeanstalk.DescribeEnvironments",
            lambda answer: [
                e
                for e in answer.get("Environments") or []
                if e.get("Status") not in ("Terminated", "Terminating")
            ],
            lambda e: {
                "ApplicationName": e["ApplicationName"],
                "EnvironmentName": e["EnvironmentName"],
            },
            lambda e: e["EnvironmentName"],
        ),
    ),
    Call("vpc-lattice.ListServiceNetworks"),
    Call(
        "vpc-lattice.ListAccessLogSubscriptions",
        each=_by("vpc-lattice.ListServiceNetworks", "items", "resourceIdentifier", "arn"),
    ),
    Call("cloudfront.ListDistributions", "global"),
    Call(
        "cloudfront.GetDistributionConfig",
        "global",
        each=Each(
            "cloudfront.ListDistributions",
            lambda answer: list((answer.get("DistributionList") or {}).get("Items") or []),
            lambda d: {"Id": d["Id"]},
            lambda d: d["Id"],
        ),
    ),
    Call("lambda.ListFunctions"),
    Call("ec2.DescribeInstances"),
    Call("ssm.DescribeInstanceInformation"),
    # is the CloudWatch agent installed on each running instance? (SSM inventory, if collected)
    Call(
        "ssm.ListInventoryEntries",
        each=Each(
            "ec2.DescribeInstances",
            lambda answer: [
                i
                for r in answer.get("Reservations") or []
                for i in r.get("Instances") or []
                if (i.get("State") or {}).get("Name") == "running"
            ],
            lambda i: {
                "InstanceId": i["InstanceId"],
                "TypeName": "AWS:Application",
                "Filters": [{"Key": "Name", "Values": [AGENT], "Type": "BeginWith"}],
            },
            lambda i: i["InstanceId"],
        ),
    ),
    # evidence access (awsir scan --responder-role): aws/simulate.py
    Call("iam.SimulatePrincipalPolicy", "derived"),
    Call("s3.GetBucketPolicy", "derived"),
    Call("kms.GetKeyPolicy", "derived"),
    Call("kms.ListGrants", "derived"),
]
"""What the inventory holds. Checks name the calls they read (``NEEDS``)."""

BY_NAME = {call.name: call for call in CALLS}
