"""Lambda functions' roles are allowed to write their logs.

A function writes to CloudWatch Logs with its execution role: without logs:CreateLogStream and
logs:PutLogEvents on its log group, every print, error and stack trace is silently dropped, and
an abused function (a common foothold) leaves no trace of what it ran. awsir asks IAM
(iam:SimulatePrincipalPolicy) for each role, on each function's log group.
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
"""

from collections.abc import Iterator

from awsir.checks.access._simulation import verdicts
from awsir.readiness.model import Account, Answer, Options, Result, failed, passed, unknown
from awsir.readiness.scan import lambda_functions

SOURCE = "lambda"
SEVERITY = "medium"
NEEDS = ("lambda.ListFunctions", "iam.SimulatePrincipalPolicy")
NOT_SIMULATED = {"code": "NotSimulated", "message": "the role's permissions were not simulated"}
FIX = "aws iam attach-role-policy --role-name {role} --policy-arn arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        listed = account.answer(region, "lambda.ListFunctions")
        if not listed.ok:
            yield unknown(f"lambda:{region}", region, listed)
    simulated = account.raw.get("function_roles") or {}
    for fn in lambda_functions(account):
        role = fn["role"].rsplit("/", 1)[-1]
        access = simulated.get(fn["role"])
        missing: list[str] = []
        doubt: Answer | None = Answer(None, NOT_SIMULATED)
        if access is not None:
            missing, doubt = verdicts(access, fn["needs"])
        if doubt is not None:
            result = unknown(fn["name"], fn["region"], doubt)
        elif missing:
            result = failed(
                fn["name"],
                fn["region"],
                f"its role cannot write to {fn['log_group']}: " + "; ".join(missing),
            )
        else:
            result = passed(fn["name"], fn["region"], f"its role writes to {fn['log_group']}")
        result.details["role"] = role
        yield result
