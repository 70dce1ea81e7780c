"""IAM Access Analyzer has an active analyzer in every Region.

Access Analyzer finds resources shared outside the account or organization (buckets, roles,
KMS keys, snapshots, secrets): after an intrusion, it lists what the intruder opened to the
outside, which is a typical persistence and exfiltration step.
https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-getting-started.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "securityhub"
SEVERITY = "low"
NEEDS = ("accessanalyzer.ListAnalyzers",)
FIX = "aws accessanalyzer create-analyzer --analyzer-name account-analyzer --type ACCOUNT --region {region}"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        listed = account.answer(region, "accessanalyzer.ListAnalyzers")
        if not listed.ok:
            yield unknown(f"access-analyzer:{region}", region, listed)
            continue
        active = [a for a in listed.get("analyzers") or [] if a.get("status") == "ACTIVE"]
        if active:
            yield passed(
                active[0]["arn"], region, f"analyzer {active[0]['name']} ({active[0].get('type')})"
            )
        else:
            yield failed(f"access-analyzer:{region}", region, "no active analyzer")
