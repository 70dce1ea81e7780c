"""Elastic Beanstalk environments stream their instance logs to CloudWatch Logs.

Beanstalk instances are replaced by scaling and deployments, and their logs with them; log
streaming copies the web server, application and platform logs to CloudWatch Logs as they are
written, so the evidence survives the instance.
https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/AWSHowTo.cloudwatchlogs.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "elastic_beanstalk"
SEVERITY = "medium"
NEEDS = ("elasticbeanstalk.DescribeEnvironments", "elasticbeanstalk.DescribeConfigurationSettings")
FIX = "aws elasticbeanstalk update-environment --environment-name {resource} --option-settings Namespace=aws:elasticbeanstalk:cloudwatch:logs,OptionName=StreamLogs,Value=true Namespace=aws:elasticbeanstalk:cloudwatch:logs,OptionName=RetentionInDays,Value=365 --region {region}"
NAMESPACE = "aws:elasticbeanstalk:cloudwatch:logs"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        environments = account.answer(region, "elasticbeanstalk.DescribeEnvironments")
        if not environments.ok:
            yield unknown(f"beanstalk:{region}", region, environments)
            continue
        settings = account.each(region, "elasticbeanstalk.DescribeConfigurationSettings")
        for name, answer in settings.items():
            if not answer.ok:
                yield unknown(name, region, answer)
                continue
            values = {
                o.get("OptionName"): o.get("Value")
                for config in answer.get("ConfigurationSettings") or []
                for o in config.get("OptionSettings") or []
                if o.get("Namespace") == NAMESPACE
            }
            if str(values.get("StreamLogs", "false")).lower() == "true":
                yield passed(
                    name, region, f"logs streamed, kept {values.get('RetentionInDays', '?')} days"
                )
            else:
                yield failed(name, region, "instance logs are not streamed")
