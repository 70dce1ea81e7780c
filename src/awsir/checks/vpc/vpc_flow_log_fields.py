"""Flow logs carry the fields an investigation needs, not only the default version 2 ones.

The default format names the network interface and the addresses seen at it. Behind NAT, load
balancers and EKS pods these are not the real endpoints: pkt-srcaddr/pkt-dstaddr give them,
instance-id ties the flow to an instance without a lookup in a history that may be gone,
tcp-flags separate scans and failed connections from sessions, and flow-direction says who
initiated.
https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html#flow-logs-fields
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "vpc_flow"
SEVERITY = "low"
NEEDS = ("ec2.DescribeFlowLogs",)
WANTED = ("instance-id", "pkt-srcaddr", "pkt-dstaddr", "tcp-flags", "flow-direction")
FIX = """aws ec2 create-flow-logs --resource-type VPC --resource-ids <vpc-id> --traffic-type ALL --log-destination-type s3 --log-destination arn:aws:s3:::<flow-log-bucket> --log-format '${{version}} ${{account-id}} ${{interface-id}} ${{srcaddr}} ${{dstaddr}} ${{srcport}} ${{dstport}} ${{protocol}} ${{packets}} ${{bytes}} ${{start}} ${{end}} ${{action}} ${{log-status}} ${{vpc-id}} ${{subnet-id}} ${{instance-id}} ${{tcp-flags}} ${{pkt-srcaddr}} ${{pkt-dstaddr}} ${{flow-direction}}' --region {region}  # then delete {resource}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        flows = account.answer(region, "ec2.DescribeFlowLogs")
        if not flows.ok:
            yield unknown(f"flow-logs:{region}", region, flows)
            continue
        for flow in flows.get("FlowLogs") or []:
            fields = flow.get("LogFormat") or ""
            missing = [f for f in WANTED if "${" + f + "}" not in fields]
            if missing:
                yield failed(
                    flow["FlowLogId"],
                    region,
                    f"its format lacks {', '.join(missing)}",
                    vpc=flow.get("ResourceId", ""),
                )
            else:
                yield passed(
                    flow["FlowLogId"], region, "custom format with the investigation fields"
                )
