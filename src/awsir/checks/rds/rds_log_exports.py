"""RDS and Aurora databases export their logs to CloudWatch Logs.

Database logs (audit, error, general, slow query, PostgreSQL logs) record logins, failed
authentication and the statements run: what an intruder did inside the database, which no
AWS API log shows. Kept on the instance they rotate within days and vanish with it; exported,
they follow the log group's retention.
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "rds"
SEVERITY = "medium"
NEEDS = ("rds.DescribeDBInstances",)
FIX = """aws rds modify-db-instance --db-instance-identifier {resource} --cloudwatch-logs-export-configuration '{{"EnableLogTypes": ["audit", "error", "general", "slowquery", "postgresql"]}}' --region {region}   # the types the engine has"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        instances = account.answer(region, "rds.DescribeDBInstances")
        if not instances.ok:
            yield unknown(f"rds:{region}", region, instances)
            continue
        for db in instances.get("DBInstances") or []:
            exported = db.get("EnabledCloudwatchLogsExports") or []
            name = db["DBInstanceIdentifier"]
            if exported:
                yield passed(name, region, f"exports {', '.join(exported)} ({db.get('Engine')})")
            else:
                yield failed(name, region, f"no log export ({db.get('Engine')})")
