"""CloudFront distributions write standard or real-time logs.

CloudFront answers requests at the edge; a request it serves from cache never reaches the
origin's logs. Its standard logs (or real-time logs through Kinesis) are then the only record of
who fetched what, from where, with which user agent.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/logging.html
"""

from collections.abc import Iterator

from awsir.readiness.model import GLOBAL, Account, Options, Result, failed, passed, unknown

SOURCE = "cloudfront_standard"
SEVERITY = "medium"
NEEDS = ("cloudfront.ListDistributions", "cloudfront.GetDistributionConfig")
FIX = "aws cloudfront get-distribution-config --id {resource} > dist.json   # set Logging.Enabled=true, Bucket=<bucket>.s3.amazonaws.com, then: aws cloudfront update-distribution --id {resource} --if-match <ETag> --distribution-config file://config.json"


def run(account: Account, options: Options) -> Iterator[Result]:
    listed, configs = account.per_item(GLOBAL, "cloudfront.GetDistributionConfig")
    if not listed.ok:
        yield unknown("cloudfront", GLOBAL, listed)
        return
    for dist, _, answer in configs:
        if not answer.ok:
            yield unknown(dist, GLOBAL, answer)
            continue
        config = answer.get("DistributionConfig") or {}
        logging = config.get("Logging") or {}
        realtime = (config.get("DefaultCacheBehavior") or {}).get("RealtimeLogConfigArn")
        if logging.get("Enabled"):
            yield passed(dist, GLOBAL, f"standard logs to {logging.get('Bucket')}")
        elif realtime:
            yield passed(dist, GLOBAL, f"real-time logs ({realtime})")
        else:
            yield failed(dist, GLOBAL, "no standard or real-time logs")
