"""Schema of a log-source card (``sources/<id>/source.yaml``): the one place each field is named.

The CLI table, the ``--json`` output, the card view and ``docs/sources.md`` are all derived from
these models: field order here is display order, ``title`` is the label, ``description`` is the
help text. Every field is required and checked for placeholders, so a card cannot ship half-filled.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl

_PLACEHOLDER = re.compile(
    r"^\s*(?:|-+|\?+|\.+|n/?a|none|null|tbd|todo|fixme|xxx+|unknown|see (?:the )?docs?\.?)\s*$"
    r"|\b(?:TODO|TBD|FIXME|lorem ipsum)\b",
    re.IGNORECASE,
)


def _not_placeholder(value: str) -> str:
    if _PLACEHOLDER.search(value):
        raise ValueError(f"placeholder text {value!r}: state the fact, or why it does not apply")
    return value.strip()


Text = Annotated[str, Field(min_length=2), AfterValidator(_not_placeholder)]
"""A fact in words: required, non-empty, never a placeholder such as 'TBD', '-' or '?'."""


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently drop a fact."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class YesNoPartly(StrEnum):
    yes = "yes"
    no = "no"
    partly = "partly"


class LogType(StrEnum):
    audit = "audit"
    configuration = "configuration"
    network = "network"
    web_access = "web_access"
    dns = "dns"
    security_findings = "security_findings"
    database = "database"
    application_os = "application_os"


class Destination(StrEnum):
    """Where the records can be read from."""

    api = "api"  # kept by the service itself, read through its API or console
    s3 = "s3"
    cloudwatch_logs = "cloudwatch_logs"
    firehose = "firehose"
    kinesis_data_streams = "kinesis_data_streams"
    eventbridge = "eventbridge"
    cloudtrail_lake = "cloudtrail_lake"
    security_hub = "security_hub"
    instance = "instance"  # on the host, node or database instance itself


class Format(Strict):
    record: Text = Field(title="Record format", description="Encoding and layout of one record.")
    naming: Text = Field(
        title="Object/file naming",
        description="S3 key layout, log group / stream names or file paths, as AWS writes them.",
    )


class Delivery(Strict):
    latency: Text = Field(title="Latency", description="Short form, shown in listings.")
    max_minutes: int | None = Field(
        title="Max minutes",
        ge=0,
        description="Documented upper bound on delivery delay in minutes (collection windows are "
        "widened by it); null when AWS documents no bound, explained in details.",
    )
    details: Text = Field(title="Details", description="How and how often records are delivered.")


class Default(Strict):
    enabled: YesNoPartly = Field(title="Enabled by default")
    details: Text = Field(title="Details", description="What is on without any set-up.")
    free: Text = Field(title="What is free")


class Enable(Strict):
    console: list[Text] = Field(title="Console steps", min_length=1)
    cli: Text = Field(title="AWS CLI", description="A command that turns the source on.")


class Organizations(Strict):
    supported: YesNoPartly = Field(title="Supported")
    how: Text = Field(title="How", description="Organization-wide set-up, or why there is none.")


class Scope(Strict):
    resources: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = Field(
        title="Covers", min_length=1, description="What one configuration covers, as snake_case."
    )
    organizations: Organizations = Field(title="AWS Organizations")


class Regionality(Strict):
    type: Annotated[str, Field(pattern=r"^(regional|global)$")] = Field(title="Regional or global")
    details: Text = Field(title="Details", description="Where global activity is logged.")


class Retention(Strict):
    default: Text = Field(title="Default retention")
    options: Text = Field(title="Retention options")


class Encryption(Strict):
    at_rest: Text = Field(title="At rest")
    in_transit: Text = Field(title="In transit")


class Cost(Strict):
    direct: Text = Field(title="Direct cost")
    indirect: Text = Field(title="Indirect cost")


def _aws_doc(url: HttpUrl) -> HttpUrl:
    host = url.host or ""
    if not (host == "aws.amazon.com" or host.endswith((".aws.amazon.com", ".amazonaws.com"))):
        raise ValueError(f"{url} is not an AWS documentation page")
    return url


class SourceCard(Strict):
    """Everything a responder needs to know about one AWS log source."""

    title: Text = Field(title="Title")
    service: Text = Field(title="AWS service")
    records: Text = Field(title="What it records", min_length=40)
    log_type: LogType = Field(title="Log type")
    format: Format = Field(title="Format")
    delivery: Delivery = Field(title="Delivery")
    destinations: list[Destination] = Field(title="Destinations", min_length=1)
    default: Default = Field(title="On by default")
    enable: Enable = Field(title="How to enable")
    scope: Scope = Field(title="Scope")
    region: Regionality = Field(title="Region")
    resource_id: Text = Field(title="Resource ID / ARN format")
    sharing: Text = Field(title="Sharing across accounts")
    retention: Retention = Field(title="Retention")
    encryption: Encryption = Field(title="Encryption")
    residency: Text = Field(title="Data residency")
    cost: Cost = Field(title="Cost")
    available_since: Text = Field(title="Available since")
    limits: list[Text] = Field(title="Exceptions and limits", min_length=1)
    answers: list[Text] = Field(title="Incident questions it answers", min_length=1)
    related: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = Field(
        title="Related sources",
        min_length=1,
        description="Ids of sources that complement this one.",
    )
    docs: list[Annotated[HttpUrl, AfterValidator(_aws_doc)]] = Field(
        title="AWS documentation", min_length=1
    )
