"""Running EC2 instances have the CloudWatch agent installed, to ship OS logs.

Authentication logs, shell history, web server and application logs live on the instance's
disk, where an intruder deletes them and where they vanish with an Auto Scaling replacement.
The CloudWatch agent ships them off the host as they are written. awsir reads Systems Manager's
inventory of installed applications: an instance without inventory is unknown (turn on SSM
inventory collection to know).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Install-CloudWatch-Agent.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Answer, Options, Result, failed, passed, unknown

SOURCE = "ec2_cloudwatch_agent"
SEVERITY = "medium"
NEEDS = ("ec2.DescribeInstances", "ssm.ListInventoryEntries")
NO_INVENTORY = Answer(
    None, {"code": "NoInventory", "message": "SSM collects no inventory from this instance"}
)
FIX = "aws ssm send-command --document-name AWS-ConfigureAWSPackage --parameters action=Install,name=AmazonCloudWatchAgent --instance-ids {resource} --region {region}   # then a config that collects /var/log/secure, /var/log/auth.log, the Windows Security log..."


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:  # the inventory asks about running instances only
        instances, inventory = account.per_item(region, "ssm.ListInventoryEntries")
        if not instances.ok:
            yield unknown(f"ec2:{region}", region, instances)
            continue
        for name, _, found in inventory:
            if not found.ok:
                yield unknown(name, region, found)
            elif not found.get("CaptureTime"):
                yield unknown(name, region, NO_INVENTORY)
            elif found.get("Entries"):
                version = found.get("Entries")[0].get("Version", "?")
                yield passed(name, region, f"CloudWatch agent {version} installed")
            else:
                yield failed(name, region, "no CloudWatch agent in its SSM inventory")
