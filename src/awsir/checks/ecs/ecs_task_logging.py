"""ECS task definitions send their containers' output to a log destination.

A container's stdout and stderr are its logs; without a log driver (awslogs, awsfirelens,
splunk...) they live on the host, and with Fargate nowhere once the task stops. The latest
ACTIVE revision of each task definition family is checked, container by container.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "ecs"
SEVERITY = "medium"
NEEDS = ("ecs.ListTaskDefinitionFamilies", "ecs.DescribeTaskDefinition")
FIX = '# register a new revision of {resource} whose containers have logConfiguration: {{"logDriver": "awslogs", "options": {{"awslogs-group": "/ecs/{resource}", "awslogs-region": "{region}", "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}}}}'


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        families, described = account.per_item(region, "ecs.DescribeTaskDefinition")
        if not families.ok:
            yield unknown(f"ecs:{region}", region, families)
            continue
        for family, _, answer in described:
            if not answer.ok:
                yield unknown(family, region, answer)
                continue
            containers = (answer.get("taskDefinition") or {}).get("containerDefinitions") or []
            silent = [c.get("name", "?") for c in containers
                      if not (c.get("logConfiguration") or {}).get("logDriver")]  # fmt: skip
            if silent:
                yield failed(
                    family, region, f"containers without a log driver: {', '.join(silent)}"
                )
            else:
                drivers = sorted({c["logConfiguration"]["logDriver"] for c in containers})
                yield passed(family, region, f"logs through {', '.join(drivers) or 'no container'}")
