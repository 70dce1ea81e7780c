"""Transit Gateways have flow logs.

A Transit Gateway joins VPCs, VPNs and Direct Connect: traffic between them may never cross a
subnet whose VPC flow log would see it. Transit Gateway flow logs record it at the hub.
https://docs.aws.amazon.com/vpc/latest/tgw/tgw-flow-logs.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "vpc_flow"
SEVERITY = "medium"
NEEDS = ("ec2.DescribeTransitGateways", "ec2.DescribeFlowLogs")
FIX = "aws ec2 create-flow-logs --resource-type TransitGateway --resource-ids {resource} --log-destination-type s3 --log-destination arn:aws:s3:::<flow-log-bucket> --region {region}"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        gateways = account.answer(region, "ec2.DescribeTransitGateways")
        flows = account.answer(region, "ec2.DescribeFlowLogs")
        if not gateways.ok or not flows.ok:
            yield unknown(f"tgw:{region}", region, gateways if not gateways.ok else flows)
            continue
        logged = {
            f.get("ResourceId")
            for f in flows.get("FlowLogs") or []
            if f.get("FlowLogStatus", "ACTIVE") == "ACTIVE"
        }
        for tgw in gateways.get("TransitGateways") or []:
            if tgw.get("State") in ("deleted", "deleting"):
                continue
            if tgw["TransitGatewayId"] in logged:
                yield passed(tgw["TransitGatewayId"], region, "flow log active")
            else:
                yield failed(tgw["TransitGatewayId"], region, "no flow log")
