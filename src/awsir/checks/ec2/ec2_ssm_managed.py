"""Running EC2 instances are managed by Systems Manager, with the agent online.

On a compromised instance, the responder needs to run commands (collect memory, process lists,
logs) without logging in with credentials the intruder may have: SSM Run Command and Session
Manager do that, and log what they did, only where the SSM agent is installed, registered and
online.
https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-managed-nodes.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "ssm"
SEVERITY = "medium"
NEEDS = ("ec2.DescribeInstances", "ssm.DescribeInstanceInformation")
FIX = "# attach AmazonSSMManagedInstanceCore to the instance role of {resource}, then check: aws ssm describe-instance-information --filters Key=InstanceIds,Values={resource} --region {region}"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        instances = account.answer(region, "ec2.DescribeInstances")
        managed = account.answer(region, "ssm.DescribeInstanceInformation")
        running = [i for r in instances.get("Reservations") or [] for i in r.get("Instances") or []
                   if (i.get("State") or {}).get("Name") == "running"]  # fmt: skip
        if not instances.ok:
            yield unknown(f"ec2:{region}", region, instances)
            continue
        if running and not managed.ok:
            for instance in running:
                yield unknown(instance["InstanceId"], region, managed)
            continue
        online = {
            m.get("InstanceId"): m.get("PingStatus")
            for m in managed.get("InstanceInformationList") or []
        }
        for instance in running:
            state = online.get(instance["InstanceId"])
            if state == "Online":
                yield passed(instance["InstanceId"], region, "SSM agent online")
            else:
                yield failed(
                    instance["InstanceId"],
                    region,
                    f"not managed by SSM ({state or 'not registered'})",
                )
