"""The ``awsir collect`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from awsir.collect.run import EVIDENCE, MANIFEST, Signer, collect, verify
from awsir.collect.windows import Window, parse_time
from awsir.console import err, out
from awsir.readiness.locations import Location, locations
from awsir.readiness.model import Account
from awsir.store.case import DEFAULT_CASE


def collect_command(
    case: Annotated[Path, typer.Option("--case", help="Case folder.")] = DEFAULT_CASE,
    start: Annotated[
        str | None, typer.Option("--from", help="Window start, ISO 8601 (UTC without offset).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end, ISO 8601.")] = None,
    sources: Annotated[
        list[str] | None, typer.Option("--sources", help="Only these sources (repeatable).")
    ] = None,
    regions: Annotated[
        list[str] | None,
        typer.Option("--regions", help="Regions (repeat or comma-separated); default: enabled."),
    ] = None,
    resources: Annotated[
        list[str] | None,
        typer.Option(
            "--resource",
            help="Also AWS Config's history of this resource in the "
            "window: TYPE=ID[@REGION], e.g. AWS::EC2::SecurityGroup=sg-0123@eu-west-1 "
            "(default Region: --region). Repeatable.",
        ),
    ] = None,
    accounts: Annotated[
        list[str] | None,
        typer.Option(
            "--accounts",
            help="Only the locations of these accounts (a location map "
            "of an organization); repeatable.",
        ),
    ] = None,
    where: Annotated[
        Path | None,
        typer.Option(
            "--locations",
            help="A log-location map (awsir scan --locations-out); "
            "default: take the inventory now.",
        ),
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
    region: Annotated[
        str, typer.Option("--region", help="Home Region: where global calls go.")
    ] = "us-east-1",
    role_arn: Annotated[
        str | None, typer.Option("--role-arn", help="Assume this role to collect.")
    ] = None,
    external_id: Annotated[
        str | None, typer.Option("--external-id", help="External id for --role-arn.")
    ] = None,
    org_role: Annotated[
        str | None,
        typer.Option(
            "--org-role",
            help="Collect from every account of the organization (or those of --accounts): "
            "assume this role name in each member account (e.g. OrganizationAccountAccessRole); "
            "a bucket another account owns is read with the first account's role that may.",
        ),
    ] = None,
    then_ingest: Annotated[
        bool, typer.Option("--ingest", help="Ingest what was collected into the case's lake.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--verify", help="Re-hash the case's evidence against its manifest.")
    ] = False,
    validate_trail: Annotated[
        bool,
        typer.Option(
            "--validate-trail",
            help="Check the collected CloudTrail files against "
            "their digest files: hashes, the digest chain and signatures.",
        ),
    ] = False,
) -> None:
    """Gather an incident's evidence into a case, from where the logs are: S3 objects of the
    window only (each source's key layout, widened by its delivery delay), CloudWatch Logs
    events, CloudTrail event history, GuardDuty and Security Hub findings, and the Config
    history of named resources; with a SHA-256 manifest and a report. Resumable; read-only."""
    if check:
        _verify(case)
        return
    if validate_trail:
        _validate_trail(case, profile, region, role_arn, external_id)
        return
    if not start or not end:
        err.print(Text("error: --from and --to give the window (or --verify)"))
        raise typer.Exit(2)
    try:
        window = Window(parse_time(start), parse_time(end))
    except ValueError as exc:
        err.print(Text(f"error: bad window: {exc}"))
        raise typer.Exit(2) from None
    from awsir.aws.inventory import SignInError, enabled_regions
    from awsir.aws.inventory import collect as inventory
    from awsir.aws.session import assume, session

    wanted_regions = [r.strip() for v in regions or [] for r in v.split(",") if r.strip()]
    named = []
    for text in resources or []:
        kind, _, rest = text.partition("=")
        rid, _, where_region = rest.partition("@")
        if not kind.startswith("AWS::") or not rid:
            err.print(Text(f"error: --resource {text!r}: give TYPE=ID[@REGION], e.g. "
                           "AWS::S3::Bucket=payroll"))  # fmt: skip
            raise typer.Exit(2)
        named.append((kind, rid, where_region or region))
    problems: list[str] = []
    try:
        base = session(profile, region)
        signed = assume(base, role_arn, external_id, region) if role_arn else base
        me = signed.client("sts").get_caller_identity()
        signers = [Signer(me["Account"], signed, me["Arn"])]
        if org_role:
            signers += _members(signed, org_role, external_id, region, accounts, problems)
        if where is not None:
            found = _read_locations(where)
        else:
            err.print(Text("taking the inventory to find the logs (awsir scan --locations-out "
                           "saves it for next time)"))  # fmt: skip
            found = []
            for signer in signers:
                taken = inventory(signer.session, wanted_regions or None, home=region)
                found += locations(Account(taken))
        if not wanted_regions:
            listed = enabled_regions(signed, region)
            wanted_regions = listed if isinstance(listed, list) else [region]
    except NoCredentialsError:
        err.print(Text("error: no AWS credentials found (--profile, or the AWS_* variables)"))
        raise typer.Exit(2) from None
    except (ClientError, BotoCoreError, SignInError) as exc:
        err.print(Text(f"error: {exc}"))
        raise typer.Exit(2) from None
    if sources:
        found = [loc for loc in found if loc.source in set(sources)]
    if accounts:
        found = [loc for loc in found if loc.account in set(accounts)]
    by_account = {loc.account: wanted_regions for loc in found}
    progress = Progress(
        TextColumn("collecting"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    )  # fmt: skip
    with progress:
        task = progress.add_task("collect", total=None)
        result = collect(signers, case, found, window, by_account,
                         on_item=lambda item, entry: progress.advance(task),
                         resources=named, problems=problems)  # fmt: skip
    size = sum(e["size"] for e in result.fetched)
    out.print(Text(f"collected {len(result.fetched):,} item(s), {size:,} bytes, into "
                   f"{case / EVIDENCE} ({result.already:,} already there; "
                   f"{result.raw:,} API responses kept as received)"))  # fmt: skip
    for problem in result.problems:
        err.print(Text(f"could not collect: {problem}"))
    for skipped in result.not_collected:
        err.print(Text(f"not collected: {skipped}"))
    out.print(Text(f"report: {result.report}"))
    if then_ingest:
        _ingest(case)
    if result.problems:
        raise typer.Exit(1)


def _members(
    signed: Any, role: str, external_id: str | None, home: str, only: list[str] | None,
    problems: list[str],
) -> list[Signer]:  # fmt: skip
    """A signer per member account (the role assumed in each), the account signed in to left
    out; an account whose role cannot be assumed is named in ``problems``."""
    from awsir.aws.inventory import describe_error
    from awsir.aws.session import assume, organization_accounts

    me = signed.client("sts").get_caller_identity()["Account"]
    found = []
    for member in organization_accounts(signed):
        account = member["Id"]
        if account == me or (only and account not in only):
            continue
        arn = f"arn:aws:iam::{account}:role/{role}"
        try:
            assumed = assume(signed, arn, external_id, home)
            caller = assumed.client("sts").get_caller_identity()["Arn"]
        except (ClientError, BotoCoreError) as exc:
            problems.append(f"account {account}: cannot assume {arn}: {describe_error(exc)}")
            continue
        found.append(Signer(account, assumed, caller))
    return found


def _read_locations(path: Path) -> list[Location]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Location(**entry) for entry in data["locations"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        err.print(Text(f"error: {path}: not a log-location map ({exc})"))
        raise typer.Exit(2) from None


def _verify(case: Path) -> None:
    if not (case / EVIDENCE / MANIFEST).exists():
        err.print(Text(f"error: no evidence manifest in {case}"))
        raise typer.Exit(2)
    found = verify(case)
    for path in found.changed:
        out.print(Text(f"CHANGED  {path}"))
    for path in found.missing:
        out.print(Text(f"MISSING  {path}"))
    out.print(Text(f"{found.checked:,} item(s) checked, {len(found.changed)} changed, "
                   f"{len(found.missing)} missing"))  # fmt: skip
    if found.changed or found.missing:
        raise typer.Exit(1)


def _ingest(case: Path) -> None:
    from awsir.store.case import Case
    from awsir.store.ingest import ingest

    kinds = ("s3", "logs", "api")
    folders: list[Any] = [case / EVIDENCE / k for k in kinds if (case / EVIDENCE / k).exists()]
    if not folders:
        return
    result = ingest(folders, Case(case))
    events = sum(result.per_source.values())
    out.print(Text(f"ingested {result.new_files:,} new file(s), {events:,} event(s) into {case}"))


def _validate_trail(
    case: Path, profile: str | None, home: str, role_arn: str | None, external_id: str | None
) -> None:
    """Digest validation: the public keys come from CloudTrail (a read call per Region)."""
    import re
    from datetime import timedelta

    from awsir.aws.fetch import public_keys
    from awsir.aws.session import assume, session
    from awsir.collect.integrity import check, uncompressed
    from awsir.collect.run import manifest_entries

    digests = [e for e in manifest_entries(case / EVIDENCE) if e["source"] == "cloudtrail_digest"]
    if not digests:
        err.print(Text(f"error: no CloudTrail digest file in {case} (collect with the "
                       "trail's log file validation on)"))  # fmt: skip
        raise typer.Exit(2)
    spans: dict[str, list[Any]] = {}
    for entry in digests:
        found = re.search(r"/CloudTrail-Digest/([a-z0-9-]+)/", entry["uri"])
        digest = json.loads(uncompressed(case / entry["path"]))
        times = [parse_time(digest["digestStartTime"]), parse_time(digest["digestEndTime"])]
        spans.setdefault(found.group(1) if found else home, []).extend(times)
    keys: dict[str, bytes] = {}
    try:
        base = session(profile, home)
        signed = assume(base, role_arn, external_id, home) if role_arn else base
        for region, times in sorted(spans.items()):
            client = signed.client("cloudtrail", region_name=region)
            keys |= public_keys(client, min(times) - timedelta(hours=1), max(times))
    except NoCredentialsError:
        err.print(Text("warning: no AWS credentials: signatures cannot be checked"))
    except (ClientError, BotoCoreError) as exc:
        err.print(Text(f"warning: cloudtrail:ListPublicKeys failed ({exc}): signatures cannot be "
                       "checked"))  # fmt: skip
    result = check(case, keys)
    for uri, verdict in sorted(result.digests.items()):
        if verdict != "valid":
            out.print(Text(f"DIGEST {verdict.upper():13} {uri}"))
    for uri in sorted(result.chain):
        out.print(Text(f"CHAIN  BROKEN        {uri}"))
    for uri, verdict in sorted(result.logs.items()):
        if verdict != "valid":
            out.print(Text(f"LOG    {verdict.upper():13} {uri}"))
    counts = result.counts()
    summary = "; ".join(f"{kind}: " + ", ".join(f"{n} {v}" for v, n in sorted(c.items()))
                        for kind, c in counts.items() if c)  # fmt: skip
    out.print(Text(summary))
    report = case / EVIDENCE / "reports" / "trail-integrity.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    data = {"counts": counts, "digests": result.digests, "logs": result.logs,
            "chain": result.chain}  # fmt: skip
    report.write_text(json.dumps(data, indent=1))
    out.print(Text(f"report: {report}"))
    if not result.clean:
        raise typer.Exit(1)
