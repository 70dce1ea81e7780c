"""VPC Lattice service networks have an access log subscription.

VPC Lattice carries service-to-service requests that never touch a load balancer or an
internet-facing endpoint; its access logs (caller, service, path, response, authorization
decision) are the record of lateral movement through it.
https://docs.aws.amazon.com/vpc-lattice/latest/ug/monitoring-access-logs.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "vpc_lattice"
SEVERITY = "medium"
NEEDS = ("vpc-lattice.ListServiceNetworks", "vpc-lattice.ListAccessLogSubscriptions")
FIX = "aws vpc-lattice create-access-log-subscription --resource-identifier {resource} --destination-arn <log-group-or-bucket-arn> --region {region}"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        networks, subscribed = account.per_item(region, "vpc-lattice.ListAccessLogSubscriptions")
        if not networks.ok:
            yield unknown(f"vpc-lattice:{region}", region, networks)
            continue
        for arn, _, answer in subscribed:
            if not answer.ok:
                yield unknown(arn, region, answer)
            elif answer.get("items"):
                where = answer.get("items")[0].get("destinationArn")
                yield passed(arn, region, f"access logs to {where}")
            else:
                yield failed(arn, region, "no access log subscription")
