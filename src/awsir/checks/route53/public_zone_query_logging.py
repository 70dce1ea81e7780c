"""Public hosted zones have DNS query logging on.

Query logs of a public zone show who resolved the organization's names: reconnaissance of
subdomains, and the resolvers behind phishing or a takeover of a dangling record.
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html
"""

from collections.abc import Iterator

from awsir.readiness.model import GLOBAL, Account, Options, Result, failed, passed, unknown

SOURCE = "route53_public_query"
SEVERITY = "low"
NEEDS = ("route53.ListHostedZones", "route53.ListQueryLoggingConfigs")
FIX = "aws route53 create-query-logging-config --hosted-zone-id {resource} --cloud-watch-logs-log-group-arn arn:aws:logs:us-east-1:{account}:log-group:/aws/route53/{zone}"


def run(account: Account, options: Options) -> Iterator[Result]:
    zones = account.answer(GLOBAL, "route53.ListHostedZones")
    configs = account.answer(GLOBAL, "route53.ListQueryLoggingConfigs")
    if not zones.ok or not configs.ok:
        yield unknown("route53", GLOBAL, zones if not zones.ok else configs)
        return
    logged = {c.get("HostedZoneId") for c in configs.get("QueryLoggingConfigs") or []}
    for zone in zones.get("HostedZones") or []:
        if (zone.get("Config") or {}).get("PrivateZone"):
            continue  # private zones are logged by Resolver query logging
        zone_id = zone["Id"].rsplit("/", 1)[-1]
        if zone_id in logged:
            yield passed(zone_id, GLOBAL, f"queries for {zone['Name']} logged")
        else:
            yield failed(
                zone_id,
                GLOBAL,
                f"queries for {zone['Name']} are not logged",
                zone=zone["Name"].rstrip("."),
            )
