"""AWS WAF web ACLs have logging on (regional ones and CloudFront's).

WAF logs record every request the web ACL evaluated, the rule that matched and the action:
probing, injection attempts and credential stuffing against the application, including what was
allowed through. Without a logging configuration, only sampled requests of the last three hours
exist.
https://docs.aws.amazon.com/waf/latest/developerguide/logging.html
"""

from collections.abc import Iterator

from awsir.readiness.model import GLOBAL, Account, Options, Result, failed, passed, unknown

SOURCE = "waf"
SEVERITY = "medium"
NEEDS = ("wafv2.ListWebACLs", "wafv2.GetLoggingConfiguration", "wafv2.ListWebACLs#cloudfront",
         "wafv2.GetLoggingConfiguration#cloudfront")  # fmt: skip
FIX = "aws wafv2 put-logging-configuration --logging-configuration ResourceArn={resource},LogDestinationConfigs=arn:aws:s3:::aws-waf-logs-<name> --region {region}"
NOT_CONFIGURED = "WAFNonexistentItemException"
TERRAFORM = """resource "aws_wafv2_web_acl_logging_configuration" "{label}" {{
  resource_arn            = "{resource}"
  log_destination_configs = ["arn:aws:s3:::aws-waf-logs-<name>"]
}}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    scopes = [(r, "") for r in account.regions] + [(GLOBAL, "#cloudfront")]
    for region, variant in scopes:
        listed, configs = account.per_item(region, f"wafv2.GetLoggingConfiguration{variant}")
        if not listed.ok:
            yield unknown(f"wafv2:{region}", region, listed)
            continue
        for arn, _, answer in configs:
            if answer.ok:
                where = (answer.get("LoggingConfiguration") or {}).get("LogDestinationConfigs")
                yield passed(arn, region, f"logs to {(where or ['?'])[0]}")
            elif (answer.error or {}).get("code") == NOT_CONFIGURED:
                yield failed(arn, region, "logging is off")
            else:
                yield unknown(arn, region, answer)
