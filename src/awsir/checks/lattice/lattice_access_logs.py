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
        networks = account.answer(region, "vpc-lattice.ListServiceNetworks")
        if not networks.ok:
            yield unknown(f"vpc-lattice:{region}", region, networks)
            continue
        subscriptions = account.each(region, "vpc-lattice.ListAccessLogSubscriptions")
        for network in networks.get("items") or []:
            answer = subscriptions.get(network["arn"])
            if answer is None or not answer.ok:
                yield unknown(network["arn"], region, answer or networks)
            elif answer.get("items"):
                yield passed(
                    network["arn"],
                    region,
                    f"access logs to {answer.get('items')[0].get('destinationArn')}",
                )
            else:
                yield failed(network["arn"], region, "no access log subscription")
