"""Schema of a format definition (``sources/<id>/parse.yaml``): how AWS writes a source's records.

A source folder may define several tables (ALB access and connection logs; Redshift connection,
user and user-activity logs). Each table names its reader, how a line or document splits into
fields, the fields in AWS's order with AWS's own names and types, and how to recognise a file of
that format. Column names are derived from the AWS names (:func:`column_name`), never restated.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PrivateAttr, create_model, model_validator

from awsir.sources.schema import Strict, Text


def column_name(aws_name: str, *, keep_case: bool = False) -> str:
    """SQL-friendly column name of an AWS field name.

    Text formats: ``account-id`` -> ``account_id``, ``cs(User-Agent)`` -> ``cs_user_agent``,
    ``Bucket Owner`` -> ``bucket_owner``. JSON keys that are already identifiers keep their case
    (``keep_case``: ``userIdentity``, ``SchemaVersion``) so Sigma rules and analysts' queries match.
    """
    if keep_case and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", aws_name):
        return aws_name
    return re.sub(r"[^a-z0-9]+", "_", aws_name.lower()).strip("_")


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return pattern


Regex = Annotated[str, AfterValidator(_regex)]


class FieldType(StrEnum):
    string = "string"
    int = "int"  # 32-bit is not enough for bytes or ports in every log: int means 64-bit here
    double = "double"
    bool = "bool"
    timestamp = "timestamp"  # ISO 8601 unless ``format`` gives a strptime pattern
    epoch_s = "epoch_s"
    epoch_ms = "epoch_ms"
    ip = "ip"
    ip_port = "ip_port"  # "1.2.3.4:5678" (AWS name "X:port") -> columns X_ip and X_port
    json = "json"  # nested object or array, kept as a struct and as JSON text


class FieldDef(Strict):
    name: str = Field(min_length=1, description="The field's name exactly as AWS documents it.")
    type: FieldType = FieldType.string
    format: str | None = Field(default=None, description="strptime pattern for timestamps.")
    doc: Text = Field(description="What the field holds, in a few words.")
    since: str | None = Field(default=None, description="Format version or date it appeared.")
    column: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Column name when the derived one would clash with a common column of "
        "another meaning (CloudFront's time of day is not the event time).",
    )

    variable: str | None = Field(
        default=None,
        pattern=r"^\$[A-Za-z]+(\.[A-Za-z0-9_]+)+$",
        description="Variable that fills this field in a customer-defined format (API Gateway "
        "$context.identity.sourceIp), to read logs written with any key names.",
    )

    _keep_case: bool = PrivateAttr(default=False)  # set by the table: JSON keys keep case

    @property
    def columns(self) -> list[str]:
        """The table columns this field becomes (an ip_port field becomes two)."""
        if self.column:
            return [self.column]
        if self.type == FieldType.ip_port:
            base = column_name(self.name.removesuffix(":port"))
            return [f"{base}_ip", f"{base}_port"]
        return [column_name(self.name, keep_case=self._keep_case)]

    @model_validator(mode="after")
    def _ip_port_name(self) -> FieldDef:
        if self.type == FieldType.ip_port and not self.name.endswith(":port"):
            raise ValueError(f"ip_port field {self.name!r} must be named 'X:port'")
        if self.format is not None and self.type != FieldType.timestamp:
            raise ValueError("format applies to timestamp fields only")
        return self


class Detect(Strict):
    """How to recognise a file of this table (any rule that matches is enough)."""

    key: list[Regex] = Field(default_factory=list, description="S3 key / file path patterns.")
    line: Regex | None = Field(default=None, description="Pattern of the first data line.")
    header: Regex | None = Field(default=None, description="Pattern of a header line.")

    @model_validator(mode="after")
    def _something(self) -> Detect:
        if not (self.key or self.line or self.header):
            raise ValueError("give at least one of key, line, header")
        return self


class Envelope(Strict):
    """A wrapper AWS puts records of this table in (EventBridge events, API outputs...)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    detect: Regex = Field(description="Pattern of the wrapper, on a file's first characters.")
    path: str = Field(
        pattern=r"^\$(\[\*\])?(\.[A-Za-z_][A-Za-z0-9_-]*(\[\*\])?)*$",
        description="JSON path to the record(s) in each wrapper: $.detail, $.Events[*]...",
    )
    string: bool = Field(default=False, description="The records are JSON text in strings.")
    cells: bool = Field(
        default=False,
        description="Each record is a list of one-key objects (CloudTrail Lake query result "
        "rows), merged into one object; keys match the fields whatever their case.",
    )
    pascal_case: bool = Field(
        default=False,
        description="The wrapper spells the keys in PascalCase (AWS CLI and SDK output of an API "
        "whose records use camelCase, e.g. GuardDuty GetFindings): the first letter of every "
        "identifier-like key is lowered before reading, so `path` uses the lowered keys.",
    )


class Layout(StrEnum):
    fixed = "fixed"  # fields in the listed order; AWS appends new fields at the end
    header = "header"  # a header line names the fields (VPC flow on S3); else default_order
    w3c = "w3c"  # '#Fields:' directive names them (CloudFront standard logs)
    json = "json"  # one JSON object per record; fields are its top-level keys
    pattern = "pattern"  # a regular expression with one named group per field
    logfmt = "logfmt"  # key=value pairs (Go logrus); fields are the keys


class Table(Strict):
    reader: Literal["delimited", "json_lines", "json_document", "pattern", "logfmt"] = Field(
        description="delimited: one record per line; json_lines: one JSON object per line; "
        "json_document: one JSON document per file holding records (e.g. {'Records': [...]}); "
        "pattern: records that start where record_start matches (they may span lines), "
        "fields taken by the named groups of pattern; logfmt: key=value pairs, one record per "
        "line, fields named by key."
    )
    layout: Layout
    delimiter: str = Field(default=" ", min_length=1, max_length=1)
    quote: str | None = Field(default=None, description="Quote character of quoted fields.")
    brackets: bool = Field(default=False, description="[...] is one field (S3 access time).")
    missing: list[str] = Field(
        default_factory=lambda: ["-"], description="Tokens meaning no value ('-' by default)."
    )
    trim: bool = Field(default=False, description="Values are padded with spaces (Redshift).")
    records: str | None = Field(
        default=None, description="json_document: the key holding the list of records."
    )
    detect: Detect
    fields: list[FieldDef] = Field(min_length=1)
    default_order: list[str] = Field(
        default_factory=list, description="layout header: the fields when no header line exists."
    )
    record_start: Regex | None = Field(
        default=None, description="pattern reader: where a record begins (at a line start)."
    )
    pattern: Regex | None = Field(
        default=None,
        description="pattern reader: the whole record, one (?P<column>...) group per field.",
    )
    envelopes: list[Envelope] = Field(default_factory=list)
    derive: dict[str, str] = Field(
        default_factory=dict,
        description="Helper values computed once per row (SQL, in order; each may use the "
        "ones before it) for the common mappings to share, e.g. the parts of a request line. "
        "Names start with '_'; they are not output.",
    )
    common: Common | None = Field(  # type: ignore[valid-type]
        default=None, description="How rows fill the common columns."
    )
    ocsf_class: int | None = Field(
        default=None, description="OCSF class uid this table maps to (as in Security Lake)."
    )
    ocsf: dict[str, str] = Field(
        default_factory=dict,
        description="Raw field (dotted inside JSON) -> the OCSF attribute holding it, for fields "
        "a common column is made of together with others (CloudTrail's eventName is "
        "api.operation): what Sigma rules read through the OCSF pipeline.",
    )
    min_fields: int | None = Field(
        default=None,
        ge=1,
        description="layout fixed: fields every line has (older lines lack fields AWS appended "
        "later); default: all of them.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Table:
        for f in self.fields:
            f._keep_case = self.layout == Layout.json
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate field names: {dupes}")
        # SQL identifiers are case-insensitive (DuckDB, Athena): "Region" and "region" clash.
        columns = [c.lower() for f in self.fields for c in f.columns]
        clashes = sorted({c for c in columns if columns.count(c) > 1})
        if clashes:
            raise ValueError(f"field names that map to the same column: {clashes}")
        unknown = [n for n in self.default_order if n not in names]
        if unknown:
            raise ValueError(f"default_order names unknown fields: {unknown}")
        if self.layout == Layout.header and not self.default_order:
            raise ValueError("layout header needs default_order (used when no header line)")
        for helper in self.derive:
            if not re.fullmatch(r"_[a-z][a-z0-9_]*", helper) or helper in RESERVED:
                raise ValueError(
                    f"derive name {helper!r}: use '_' + lower-case letters, digits or '_', "
                    f"other than {', '.join(RESERVED)}"
                )
        for column in sorted(set(columns) & (set(COMMON_TYPES) | set(ROW_COLUMNS))):
            if column in ROW_COLUMNS:
                raise ValueError(f"field column {column!r} clashes with awsir's own column")
            mapped = getattr(self.common, column, "NULL") if self.common else "NULL"
            same = rf'^\s*(NULL|"?{column}"?|coalesce\(\s*"?{column}"?\s*,.*\))\s*$'
            if not re.match(same, mapped, re.IGNORECASE | re.DOTALL):
                raise ValueError(
                    f"common column {column!r} is also a field column but is mapped to "
                    f"{mapped!r}: map it to the field itself (or coalesce(field, fallback)), "
                    "or give the field another 'column' name"
                )
        if self.ocsf_class is not None and self.ocsf_class not in OCSF_CLASSES:
            raise ValueError(f"ocsf_class {self.ocsf_class} is not one of {sorted(OCSF_CLASSES)}")
        if self.min_fields is not None and (
            self.layout != Layout.fixed or self.min_fields > len(self.fields)
        ):
            raise ValueError("min_fields is for layout fixed, at most the number of fields")
        if (self.reader == "json_document") != (self.records is not None):
            raise ValueError("records is required by, and only allowed for, json_document")
        if (self.reader == "pattern") != (self.layout == Layout.pattern) or (
            (self.reader == "pattern")
            != (self.pattern is not None and self.record_start is not None)
        ):
            raise ValueError(
                "the pattern reader goes with layout pattern, pattern and record_start"
            )
        if (self.reader == "logfmt") != (self.layout == Layout.logfmt):
            raise ValueError("the logfmt reader goes with layout logfmt")
        if self.reader == "logfmt":
            return self
        if self.record_start is not None and re.compile(self.record_start).groups:
            raise ValueError("record_start: use non-capturing groups (?:...) only")
        if self.pattern is not None:
            groups = set(re.compile(self.pattern).groupindex)
            wanted = {c for f in self.fields for c in f.columns}
            if groups != wanted:
                raise ValueError(
                    f"pattern groups {sorted(groups)} are not the columns {sorted(wanted)}"
                )
        elif (self.reader == "delimited") == (self.layout == Layout.json):
            raise ValueError("delimited readers need a text layout; JSON readers layout json")
        return self


class Outcome(StrEnum):
    success = "success"
    failure = "failure"
    denied = "denied"
    blocked = "blocked"
    unknown = "unknown"


COMMON_TYPES = {
    # The columns every row has, for timelines across sources; declared once, here.
    "time": "TIMESTAMPTZ",
    "account_id": "VARCHAR",
    "region": "VARCHAR",
    "actor": "VARCHAR",  # principal ARN / user; the client IP for web and network logs
    "src_ip": "VARCHAR",
    "src_port": "BIGINT",
    "dst_ip": "VARCHAR",
    "dst_port": "BIGINT",
    "action": "VARCHAR",  # API call, HTTP method + path, DNS query, flow action
    "resource": "VARCHAR",
    "outcome": "VARCHAR",  # one of Outcome
    "user_agent": "VARCHAR",
    "message": "VARCHAR",  # one-line human summary
}
OCSF_CLASSES = {
    # OCSF classes Amazon Security Lake maps AWS sources to.
    2004: "Detection Finding",
    3001: "Account Change",
    3002: "Authentication",
    4001: "Network Activity",
    4002: "HTTP Activity",
    4003: "DNS Activity",
    5001: "Device Inventory Info",
    6003: "API Activity",
}


REQUIRED_COMMON = ("time", "message")
ROW_COLUMNS = ("source", "raw_ref", "ocsf_class_uid")
"""Columns awsir adds to every row after the common ones."""
RESERVED = ("_line", "_extra", "_record", "_error", "_part", "_file", "_key_account", "_key_region")
"""Working columns of the engine: no ``derive`` helper may take these names."""

Common = create_model(  # type: ignore[call-overload]
    "Common",
    __base__=Strict,
    __doc__="SQL expressions (DuckDB dialect, over the table's columns) for the common columns. "
    "_key_account and _key_region hold the account and Region read from the file's S3 key "
    "(AWSLogs/ACCOUNT/.../REGION/...) for formats whose records do not carry them.",
    **{name: (str, ...) if name in REQUIRED_COMMON else (str, "NULL") for name in COMMON_TYPES},
)


TableName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class ParseSpec(Strict):
    """Everything ``parse.yaml`` holds: the tables this source's records go to."""

    tables: dict[TableName, Table] = Field(min_length=1)
