"""Every VPC's DNS queries are logged by Route 53 Resolver query logging.

Resolver query logs name every domain an instance, container or Lambda function in the VPC asked
for, and the answer: how to find command and control, DNS tunnelling and data staged on
file-sharing sites, and which instance did it. Nothing is logged unless a query logging
configuration is associated with the VPC.
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "route53_resolver_query"
SEVERITY = "medium"
NEEDS = ("ec2.DescribeVpcs", "route53resolver.ListResolverQueryLogConfigAssociations")
FIX = """aws route53resolver create-resolver-query-log-config --name dns-{region} --destination-arn arn:aws:s3:::<dns-log-bucket> --region {region}
aws route53resolver associate-resolver-query-log-config --resolver-query-log-config-id <config-id> --resource-id {resource} --region {region}"""
TERRAFORM = """resource "aws_route53_resolver_query_log_config" "dns" {{
  name            = "dns-{region}"
  destination_arn = "arn:aws:s3:::<dns-log-bucket>"
}}
resource "aws_route53_resolver_query_log_config_association" "{label}" {{
  resolver_query_log_config_id = aws_route53_resolver_query_log_config.dns.id
  resource_id                  = "{resource}"
}}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        vpcs = account.answer(region, "ec2.DescribeVpcs")
        links = account.answer(region, "route53resolver.ListResolverQueryLogConfigAssociations")
        if not vpcs.ok or not links.ok:
            yield unknown(f"vpc:{region}", region, vpcs if not vpcs.ok else links)
            continue
        active = {
            a.get("ResourceId"): a.get("ResolverQueryLogConfigId")
            for a in links.get("ResolverQueryLogConfigAssociations") or []
            if a.get("Status") in ("ACTIVE", "CREATING")
        }
        for vpc in vpcs.get("Vpcs") or []:
            config = active.get(vpc["VpcId"])
            if config:
                yield passed(vpc["VpcId"], region, f"queries logged by {config}")
            else:
                yield failed(vpc["VpcId"], region, "DNS queries are not logged")
