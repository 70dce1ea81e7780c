"""The responder role can read and decrypt the evidence at every log location.

Logs nobody on the response team can open are no better than no logs: a bucket policy that
names only the delivery service, a KMS key policy that omits the responder, a permission set
without logs:FilterLogEvents. awsir asks IAM (iam:SimulatePrincipalPolicy, with the bucket or
key policy) whether the role given with --responder-role may list and read each bucket prefix,
decrypt its key, read each log group and call the APIs that keep events (CloudTrail event
history, GuardDuty, Security Hub), and names each missing permission.
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
"""

from collections.abc import Iterator

from awsir.checks.access._simulation import NO_ROLE, verdicts
from awsir.checks.s3._buckets import names
from awsir.readiness.access import needs
from awsir.readiness.locations import locations
from awsir.readiness.model import Account, Answer, Options, Result, Status, failed, passed, unknown

SOURCE = "cloudtrail_trail"  # each result names its location's source
SEVERITY = "high"
NEEDS = ("iam.SimulatePrincipalPolicy", "s3.GetBucketPolicy", "kms.GetKeyPolicy")
FIX = """# grant the responder role (and, in the bucket/key policy, allow it):
# {missing}
aws iam put-role-policy --role-name <responder-role> --policy-name read-evidence --policy-document file://read-evidence.json"""


def run(account: Account, options: Options) -> Iterator[Result]:
    access = account.access
    if access is None:
        yield Result(Status.not_applicable, account.id, "global", NO_ROLE)
        return
    mine = set(names(account))
    for location in locations(account):
        where = location.bucket or location.log_group or location.api or location.producer
        missing, doubt = verdicts(access, needs(location))
        if doubt is not None:
            result = unknown(where, location.region, doubt)
        elif location.bucket and location.bucket not in mine and not missing:
            hint = "allowed by the role's policies; the bucket is in another account, whose bucket policy decides too: check it there"
            result = unknown(
                where, location.region, Answer(None, {"code": "OtherAccount", "message": hint})
            )
        elif missing:
            result = failed(
                where, location.region, "cannot: " + "; ".join(missing), missing=", ".join(missing)
            )
        else:
            result = passed(
                where, location.region, f"can read {location.kind} evidence of {location.producer}"
            )
        result.source = location.source
        yield result
