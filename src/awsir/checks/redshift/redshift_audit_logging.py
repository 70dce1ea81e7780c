"""Redshift clusters have audit logging on.

Redshift's connection, user and user activity logs record who connected from where, user
changes and every query: the evidence of data pulled out of the warehouse. They are off by
default.
https://docs.aws.amazon.com/redshift/latest/mgmt/db-auditing.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "redshift_audit"
SEVERITY = "medium"
NEEDS = ("redshift.DescribeClusters", "redshift.DescribeLoggingStatus")
FIX = "aws redshift enable-logging --cluster-identifier {resource} --log-destination-type cloudwatch --log-exports connectionlog userlog useractivitylog --region {region}   # useractivitylog also needs enable_user_activity_logging in the parameter group"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        clusters, status = account.per_item(region, "redshift.DescribeLoggingStatus")
        if not clusters.ok:
            yield unknown(f"redshift:{region}", region, clusters)
            continue
        for name, _, answer in status:
            if not answer.ok:
                yield unknown(name, region, answer)
            elif answer.get("LoggingEnabled"):
                where = answer.get("BucketName") or answer.get("LogDestinationType") or "?"
                yield passed(name, region, f"audit logs to {where}")
            else:
                yield failed(name, region, "audit logging is off")
