"""EKS clusters send their control plane's api, audit and authenticator logs to CloudWatch.

The audit log is the Kubernetes equivalent of CloudTrail (who ran which kubectl command, exec
into which pod, read which secret); the authenticator log maps IAM principals to Kubernetes
users. Both are off by default, and nothing of the control plane is kept without them.
https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "eks"
SEVERITY = "high"
NEEDS = ("eks.ListClusters", "eks.DescribeCluster")
WANTED = ("api", "audit", "authenticator")
FIX = """aws eks update-cluster-config --name {resource} --logging '{{"clusterLogging": [{{"types": ["api", "audit", "authenticator"], "enabled": true}}]}}' --region {region}"""
TERRAFORM = """# in the aws_eks_cluster resource of {resource}:
  enabled_cluster_log_types = ["api", "audit", "authenticator"]"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        listed, clusters = account.per_item(region, "eks.DescribeCluster")
        if not listed.ok:
            yield unknown(f"eks:{region}", region, listed)
            continue
        for name, _, answer in clusters:
            if not answer.ok:
                yield unknown(name, region, answer)
                continue
            logging = ((answer.get("cluster") or {}).get("logging") or {}).get(
                "clusterLogging"
            ) or []
            on = {t for setup in logging if setup.get("enabled") for t in setup.get("types") or []}
            missing = [t for t in WANTED if t not in on]
            if missing:
                yield failed(name, region, f"not logged: {', '.join(missing)}")
            else:
                yield passed(name, region, f"logs {', '.join(sorted(on))}")
