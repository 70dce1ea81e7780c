"""GuardDuty is enabled in every Region.

GuardDuty reads CloudTrail, VPC flow and DNS logs on its own copies (even where the account
keeps none) and raises findings on credential misuse, crypto-mining, reconnaissance and
exfiltration. Intruders work in Regions where it is off; findings are kept 90 days.
https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html
"""

from collections.abc import Iterator

from awsir.readiness.model import Account, Options, Result, failed, passed, unknown

SOURCE = "guardduty"
SEVERITY = "high"
NEEDS = ("guardduty.ListDetectors", "guardduty.GetDetector")
FIX = "aws guardduty create-detector --enable --finding-publishing-frequency FIFTEEN_MINUTES --region {region}"
TERRAFORM = """resource "aws_guardduty_detector" "{label}" {{  # with provider region {region}
  enable                       = true
  finding_publishing_frequency = "FIFTEEN_MINUTES"
}}"""


def run(account: Account, options: Options) -> Iterator[Result]:
    for region in account.regions:
        listed = account.answer(region, "guardduty.ListDetectors")
        if not listed.ok:
            yield unknown(f"guardduty:{region}", region, listed)
            continue
        detectors = account.each(region, "guardduty.GetDetector")
        states = {d: detectors[d] for d in listed.get("DetectorIds") or [] if d in detectors}
        enabled = [d for d, a in states.items() if a.ok and a.get("Status") == "ENABLED"]
        if enabled:
            yield passed(enabled[0], region, "detector enabled")
        elif any(not a.ok for a in states.values()):
            yield unknown(
                f"guardduty:{region}", region, next(a for a in states.values() if not a.ok)
            )
        else:
            yield failed(
                f"guardduty:{region}",
                region,
                "no enabled detector" if not states else "detector suspended",
            )
