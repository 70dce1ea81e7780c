"""Where a Sigma rule runs: its ``logsource`` resolved to a view of the case, and its field
names to that view's columns, both generated from the source definitions.

Two pipelines, one per way of seeing the lake:

- **native** (the default): ``product: aws`` + ``service: <table>`` reads that table's view under
  AWS's own field names. ``service: cloudtrail`` is SigmaHQ's own name and the ``cloudtrail``
  table's; every other table (``vpc_flow``, ``route53_resolver``, ``s3_access``, ``alb``,
  ``waf``, ``guardduty``...) is reachable the same way. A field may be written as AWS documents
  it (``log-status``, ``Bucket``, ``c-ip``) or as its column (``log_status``); dotted names under a
  JSON field (``userIdentity.arn``) read inside it. ``product: aws`` + ``category: webserver``,
  ``dns`` or ``firewall`` reads every source of the matching OCSF class at once through the
  common columns (``src_ip``, ``user_agent``, ``action``...).
- **ocsf**: the same rules over the case's OCSF views (``ocsf_api_activity``...), with the field
  names OCSF uses (``api.operation``, ``src_endpoint.ip``). A raw field maps to the OCSF attribute
  of the common column its table fills from that field alone (CloudTrail's ``awsRegion`` fills
  ``region``, which is ``cloud.region``), or to the one its table declares under ``ocsf:``
  (``eventName`` is ``api.operation``). A rule using a field with no OCSF equivalent does not
  compile there: saying so beats a condition that can never match.

https://sigmahq.io/docs/basics/log-sources.html, https://schema.ocsf.io/1.1.0/classes/api_activity
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation
from sigma.rule import SigmaLogSource

from awsir.parse.spec import COMMON_TYPES, ROW_COLUMNS, FieldType
from awsir.store.layout import EVENTS
from awsir.store.ocsf import COMMON_OCSF, view_name

PIPELINES = ("native", "ocsf")
CATEGORIES = {"webserver": 4002, "dns": 4003, "firewall": 4001}
"""Sigma's generic log categories, read across every source of the OCSF class."""
_TAXONOMY = {  # Sigma's field names for those categories, where a common column is the same
    "c-ip": "src_ip", "src_ip": "src_ip", "dst_ip": "dst_ip", "src_port": "src_port",
    "dst_port": "dst_port", "c-useragent": "user_agent", "cs-user-agent": "user_agent",
    "query": "action", "cs-method": "action", "cs-uri": "action",
}  # fmt: skip
_FIELD_REF = re.compile(r"(?<![\w.'\"$>])([A-Za-z][A-Za-z0-9_]*)(?![\w'\"(])")


@dataclass(frozen=True)
class Target:
    """One view a rule can read, with what its conditions and findings need to know."""

    view: str
    columns: frozenset[str]
    json_columns: frozenset[str] = frozenset()
    struct_columns: frozenset[str] = frozenset()  # OCSF objects: dotted names are struct fields
    where: str | None = None  # rows of the view the logsource covers
    aliases: dict[str, str] = field(default_factory=dict)  # Sigma field -> column / OCSF path
    time: str = "time"  # SQL over the row, alias ``e``
    ref: str = "raw_ref"  # the event's raw_ref: what `awsir timeline --finding` opens
    subject: str = "coalesce(actor, src_ip, resource)"
    strict: bool = False  # an unknown field is an error (OCSF), not an absent value
    day: str | None = "day"  # the partition column that prunes a time window


@cache
def _tables() -> dict[str, tuple[object, dict[str, str]]]:
    """Each table of the catalog: its definition and the OCSF paths of its raw fields."""
    from awsir.catalog import load_catalog

    found: dict[str, tuple[object, dict[str, str]]] = {}
    for source in load_catalog():
        if not source.parse:
            continue
        for name, table in source.parse.tables.items():
            found.setdefault(name, (table, {}))
    return found


def _raw_fields_in(expression: str, columns: set[str]) -> set[str]:
    return {m for m in _FIELD_REF.findall(expression) if m in columns}


def _ocsf_paths(table: object) -> dict[str, str]:
    """Raw field name -> OCSF attribute, for the fields one common column is made of alone."""
    paths: dict[str, str] = {}
    columns = {c: f.name for f in table.fields for c in f.columns}  # type: ignore[attr-defined]
    common = table.common  # type: ignore[attr-defined]
    for column, path in COMMON_OCSF.items():
        expression = getattr(common, column, "NULL") if common else "NULL"
        used = _raw_fields_in(expression, set(columns))
        if len(used) == 1:
            [col] = used
            paths[columns[col]] = path
            paths[col] = path
    for name, path in (table.ocsf or {}).items():  # type: ignore[attr-defined]
        paths[name] = path
    return paths


def _native(name: str, table: object) -> Target:
    fields = table.fields  # type: ignore[attr-defined]
    columns = {c for f in fields for c in f.columns} | set(COMMON_TYPES) | set(ROW_COLUMNS)
    json = {c for f in fields if f.type == FieldType.json for c in f.columns}
    json -= set(COMMON_TYPES)
    # AWS's name wins over a common column of the same name (WAF's action is ALLOW or BLOCK)
    aliases = {
        f.name: f.columns[0] for f in fields if len(f.columns) == 1 and f.name != f.columns[0]
    }
    return Target(name, frozenset(columns | {"day"}), frozenset(json), aliases=aliases)


def _category(class_uid: int) -> Target:
    columns = set(COMMON_TYPES) | set(ROW_COLUMNS) | {"day"}
    return Target(
        EVENTS, frozenset(columns), where=f"ocsf_class_uid = {class_uid}", aliases=dict(_TAXONOMY)
    )


_OCSF_STRUCTS = frozenset(
    {"metadata", "cloud", "src_endpoint", "dst_endpoint", "actor", "api", "http_request"}
)
_OCSF_COLUMNS = frozenset(
    {"time", "time_dt", "class_uid", "class_name", "category_uid", "category_name",
     "activity_id", "activity_name", "type_uid", "severity_id", "status", "status_id",
     "status_detail", "message", "source", "account_id", "region", "day"}
)  # fmt: skip


def _ocsf(table_name: str, table: object) -> Target | None:
    class_uid = table.ocsf_class  # type: ignore[attr-defined]
    if class_uid is None:
        return None
    return Target(
        view_name(class_uid),
        _OCSF_COLUMNS | _OCSF_STRUCTS,
        struct_columns=_OCSF_STRUCTS,
        where=f"source = '{table_name}'",
        aliases=_ocsf_paths(table),
        time="time_dt",
        ref="metadata.uid",
        subject="coalesce(e.actor.user.uid, e.src_endpoint.ip)",
        strict=True,
    )


def resolve(logsource: SigmaLogSource, pipeline: str = "native") -> Target | None:
    """The view a rule's logsource reads under ``pipeline``, or None when awsir has no such
    logs (the rule is then reported, not run)."""
    if (logsource.product or "").lower() != "aws":
        return None
    service = (logsource.service or "").lower()
    category = (logsource.category or "").lower()
    tables = _tables()
    if service:
        if service not in tables:
            return None
        table, _ = tables[service]
        return _native(service, table) if pipeline == "native" else _ocsf(service, table)
    if category in CATEGORIES and pipeline == "native":
        return _category(CATEGORIES[category])
    return None


def services() -> list[str]:
    """Every ``service`` a rule can name (the tables of the catalog)."""
    return sorted(_tables())


def pipeline(kind: str = "native") -> ProcessingPipeline:
    """The pySigma processing pipeline of ``kind``: per logsource, Sigma field names to the
    view's names. Built from the source definitions, so a new source brings its mapping."""
    items = []
    for name, (table, _) in sorted(_tables().items()):
        target = _native(name, table) if kind == "native" else _ocsf(name, table)
        if target is None or not target.aliases:
            continue
        mapping: dict[str | None, str | list[str]] = {
            k: v for k, v in target.aliases.items() if k != v
        }
        if not mapping:
            continue
        items.append(
            ProcessingItem(
                identifier=f"awsir_{kind}_{name}",
                transformation=FieldMappingTransformation(dict(mapping)),
                rule_conditions=[LogsourceCondition(product="aws", service=name)],
            )
        )
    if kind == "native":
        for category, class_uid in CATEGORIES.items():
            mapping = {k: v for k, v in _category(class_uid).aliases.items() if k != v}
            items.append(
                ProcessingItem(
                    identifier=f"awsir_native_{category}",
                    transformation=FieldMappingTransformation(dict(mapping)),
                    rule_conditions=[LogsourceCondition(product="aws", category=category)],
                )
            )
    return ProcessingPipeline(name=f"awsir {kind}", priority=20, items=items)
