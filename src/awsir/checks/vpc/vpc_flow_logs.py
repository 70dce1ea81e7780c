"""Every VPC has an active flow log capturing all traffic, delivered without errors.

Flow logs are the only record of what a compromised instance talked to (exfiltration, command
and control, lateral movement, scans). Traffic type ALL keeps accepted and rejected flows; a
flow log whose delivery fails (a deleted bucket, a role that lost its permissions) records
nothing while looking configured.
https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html
"""

from collections.abc import Iterator
from typing import Any

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "vpc_flow"
SEVERITY = "high"
NEEDS = ("ec2.DescribeVpcs", "ec2.DescribeFlowLogs")
FIX = """aws ec2 create-flow-logs --resource-type VPC --resource-ids {resource} --traffic-type ALL --log-destination-type s3 --log-destination arn:aws:s3:::<flow-log-bucket> --max-aggregation-interval 60 --region {region}"""
TERRAFORM = """resource "aws_flow_log" "{label}" {{
  vpc_id                   = "{resource}"
  traffic_type             = "ALL"
  log_destination_type     = "s3"
  log_destination          = "arn:aws:s3:::<flow-log-bucket>"
  max_aggregation_interval = 60
  log_format = "$${{version}} $${{account-id}} $${{interface-id}} $${{srcaddr}} $${{dstaddr}} $${{srcport}} $${{dstport}} $${{protocol}} $${{packets}} $${{bytes}} $${{start}} $${{end}} $${{action}} $${{log-status}} $${{vpc-id}} $${{instance-id}} $${{tcp-flags}} $${{pkt-srcaddr}} $${{pkt-dstaddr}} $${{flow-direction}}"
}}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        vpcs = account.answer(region, "ec2.DescribeVpcs")
        flows = account.answer(region, "ec2.DescribeFlowLogs")
        for answer in (vpcs, flows):
            if not answer.ok:
                yield unknown(f"vpc:{region}", region, answer)
                break
        else:
            by_vpc: dict[str, list[dict[str, Any]]] = {}
            for flow in flows.get("FlowLogs") or []:
                by_vpc.setdefault(flow.get("ResourceId", ""), []).append(flow)
            for vpc in vpcs.get("Vpcs") or []:
                yield _verdict(vpc["VpcId"], region, by_vpc.get(vpc["VpcId"], []))


def _verdict(vpc: str, region: str, flows: list[dict[str, Any]]) -> Result:
    if not flows:
        return failed(vpc, region, "no flow log")
    good = [f for f in flows if f.get("FlowLogStatus") == "ACTIVE" and f.get("TrafficType") == "ALL"
            and f.get("DeliverLogsStatus", "SUCCESS") == "SUCCESS"]  # fmt: skip
    if good:
        where = good[0].get("LogDestination") or good[0].get("LogGroupName")
        return passed(vpc, region, f"flow log {good[0].get('FlowLogId')} to {where}")
    described = ", ".join(
        f"{f.get('FlowLogId')}: {f.get('FlowLogStatus')}, {f.get('TrafficType')} traffic, "
        f"delivery {f.get('DeliverLogsStatus', '?')} {f.get('DeliverLogsErrorMessage', '')}".strip()
        for f in flows
    )
    return failed(vpc, region, f"no active flow log of all traffic delivering: {described}")
