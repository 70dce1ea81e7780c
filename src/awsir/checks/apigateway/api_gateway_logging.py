"""API Gateway stages write access logs (and REST stages execution logs).

Access logs record every request to the API: caller address, identity, route, status, latency.
Execution logs add what API Gateway did with it (authorizer results, integration errors). A
public API is a front door; without these, an attack on it leaves only the backend's traces.
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
"""

from collections.abc import Iterator
from typing import Any

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "apigateway"
SEVERITY = "medium"
NEEDS = (
    "apigateway.GetRestApis",
    "apigateway.GetStages",
    "apigatewayv2.GetApis",
    "apigatewayv2.GetStages",
)
FIX = "aws apigateway update-stage --rest-api-id {api} --stage-name {stage} --patch-operations op=replace,path=/accessLogSettings/destinationArn,value=<log-group-arn> op=replace,path=/*/*/logging/loglevel,value=INFO --region {region}   # HTTP APIs: aws apigatewayv2 update-stage --api-id {api} --stage-name {stage} --access-log-settings DestinationArn=<log-group-arn>,Format=<format>"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        for stages_call in ("apigateway.GetStages", "apigatewayv2.GetStages"):
            apis, stages = account.per_item(region, stages_call)
            if not apis.ok:
                yield unknown(f"{stages_call.split('.')[0]}:{region}", region, apis)
                continue
            for api, _, answer in stages:
                if not answer.ok:
                    yield unknown(api, region, answer)
                    continue
                for stage in answer.get("item") or answer.get("Items") or []:
                    yield _verdict(api, stage, region, rest=stages_call.startswith("apigateway."))


def _verdict(api: str, stage: dict[str, Any], region: str, rest: bool) -> Result:
    name = stage.get("stageName") or stage.get("StageName") or "?"
    resource = f"{api}/{name}"
    access = stage.get("accessLogSettings") or stage.get("AccessLogSettings") or {}
    level = ((stage.get("methodSettings") or {}).get("*/*") or {}).get("loggingLevel")
    missing = []
    if not (access.get("destinationArn") or access.get("DestinationArn")):
        missing.append("access logs")
    if rest and level not in ("INFO", "ERROR"):
        missing.append("execution logs")
    if missing:
        return failed(resource, region, f"no {' and no '.join(missing)}", api=api, stage=name)
    return passed(resource, region, "logged", api=api, stage=name)
