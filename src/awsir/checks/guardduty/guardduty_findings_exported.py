"""GuardDuty findings are exported to S3.

GuardDuty keeps findings for 90 days. An intrusion found later (most are found after months)
needs the older findings, which only an export to S3 keeps.
https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_exportfindings.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "guardduty"
SEVERITY = "medium"
NEEDS = ("guardduty.ListDetectors", "guardduty.ListPublishingDestinations")
FIX = "aws guardduty create-publishing-destination --detector-id {resource} --destination-type S3 --destination-properties DestinationArn=arn:aws:s3:::<findings-bucket>,KmsKeyArn=<key-arn> --region {region}"


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        listed, exports = account.per_item(region, "guardduty.ListPublishingDestinations")
        if not listed.ok:
            yield unknown(f"guardduty:{region}", region, listed)
            continue
        for detector, _, answer in exports:
            if not answer.ok:
                yield unknown(detector, region, answer)
                continue
            live = [d for d in answer.get("Destinations") or [] if d.get("Status") == "PUBLISHING"]
            if live:
                yield passed(detector, region, f"exported ({live[0].get('DestinationType')})")
            else:
                yield failed(detector, region, "findings are kept 90 days in GuardDuty only")
