"""Load balancers write access logs.

ALB and Classic Load Balancer access logs record every request (client address and port,
request line, user agent, status, TLS details, target): the record of an attack on a web
application, which the application's own logs may lack. NLB logs TLS connections only.
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/access-log-collection.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "alb"
SEVERITY = "medium"
NEEDS = ("elbv2.DescribeLoadBalancers", "elbv2.DescribeLoadBalancerAttributes",
         "elb.DescribeLoadBalancers", "elb.DescribeLoadBalancerAttributes")  # fmt: skip
FIX = """aws elbv2 modify-load-balancer-attributes --load-balancer-arn {resource} --attributes Key=access_logs.s3.enabled,Value=true Key=access_logs.s3.bucket,Value=<log-bucket> --region {region}
# Classic: aws elb modify-load-balancer-attributes --load-balancer-name {resource} --load-balancer-attributes '{{"AccessLog": {{"Enabled": true, "S3BucketName": "<log-bucket>", "EmitInterval": 5}}}}' --region {region}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        modern, attributes = account.per_item(region, "elbv2.DescribeLoadBalancerAttributes")
        if not modern.ok:
            yield unknown(f"elbv2:{region}", region, modern)
        for arn, lb, answer in attributes:
            if lb.get("Type") == "gateway":
                continue  # Gateway Load Balancers have no access logs
            if not answer.ok:
                yield unknown(arn, region, answer)
                continue
            values = {a["Key"]: a.get("Value") for a in answer.get("Attributes") or []}
            on = values.get("access_logs.s3.enabled") == "true"
            yield _verdict(arn, region, on, values.get("access_logs.s3.bucket"))
        classic, attributes = account.per_item(region, "elb.DescribeLoadBalancerAttributes")
        if not classic.ok:
            yield unknown(f"elb:{region}", region, classic)
        for name, _, answer in attributes:
            if not answer.ok:
                yield unknown(name, region, answer)
                continue
            log = (answer.get("LoadBalancerAttributes") or {}).get("AccessLog") or {}
            yield _verdict(name, region, bool(log.get("Enabled")), log.get("S3BucketName"))


def _verdict(name: str, region: str, on: bool, bucket: str | None) -> Result:
    if on:
        return passed(name, region, f"access logs to s3://{bucket}", bucket=bucket or "")
    return failed(name, region, "access logs are off")
