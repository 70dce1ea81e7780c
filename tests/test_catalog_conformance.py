"""Every source in the registry loads, validates and is complete: one suite over all of them."""

from __future__ import annotations

import pytest

from awsir.catalog import load_catalog, load_source
from awsir.registry import default_registry
from awsir.sources.schema import SourceCard

SOURCE_UNITS = sorted(default_registry().of("sources").values(), key=lambda u: u.id)
REQUIRED_IDS = {
    # The sources the foundation issue names; more may be added, none may go missing.
    "cloudtrail_event_history", "cloudtrail_trail", "cloudtrail_data_events",
    "cloudtrail_insights", "cloudtrail_lake", "cloudtrail_eventbridge", "cloudtrail_digest",
    "cloudwatch_logs", "config", "vpc_flow", "s3_access", "elb_classic", "alb", "nlb",
    "cloudfront_standard", "cloudfront_realtime", "route53_public_query",
    "route53_resolver_query", "guardduty", "securityhub", "waf", "vpc_lattice", "lambda", "rds",
    "redshift_audit", "apigateway", "eks", "ecs", "emr", "elastic_beanstalk", "firehose", "ssm",
    "ec2_cloudwatch_agent", "opsworks",
}  # fmt: skip
PLACEHOLDERS = {"", "-", "?", "tbd", "todo", "n/a", "na", "none", "unknown", "xxx", "..."}


def test_registry_discovery_is_clean():
    assert default_registry().problems_of("sources") == []
    assert load_catalog().problems == []


def test_catalog_has_every_required_source():
    assert {u.id for u in SOURCE_UNITS} >= REQUIRED_IDS


@pytest.mark.parametrize("unit", SOURCE_UNITS, ids=lambda u: u.id)
def test_source_card_validates(unit):
    source = load_source(unit)
    assert source.id == unit.path.parent.name
    assert unit.provider == "awsir"


@pytest.mark.parametrize("unit", SOURCE_UNITS, ids=lambda u: u.id)
def test_source_card_facts_are_usable(unit):
    card = load_source(unit).card
    assert unit.id not in card.related, "a source is not related to itself"
    assert "aws " in card.enable.cli, "the enable command is an AWS CLI command"
    assert all(q.rstrip().endswith("?") for q in card.answers), "answers are questions"
    assert len(set(card.answers)) == len(card.answers)
    if card.delivery.max_minutes is None:
        assert len(card.delivery.details) > 30, "no bound: details must say why"


def _leaves(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        assert value, f"{path} is an empty list"
        for i, inner in enumerate(value):
            yield from _leaves(inner, f"{path}[{i}]")
    else:
        yield path, value


def test_json_listing_has_every_field_filled(catalog_json):
    """`awsir sources --json`: >= 32 sources, each with every schema field, none a placeholder."""
    assert len(catalog_json) >= 32
    fields = set(SourceCard.model_fields)
    for card in catalog_json:
        assert set(card) == fields | {"id", "provider"}, card["id"]
        for path, value in _leaves(card):
            if path == "delivery.max_minutes" and value is None:
                continue  # explicit "no documented bound", checked above
            assert value is not None, f"{card['id']}: {path} is null"
            if isinstance(value, str):
                assert value.strip().lower() not in PLACEHOLDERS, f"{card['id']}: {path}={value!r}"
                assert "TODO" not in value and "TBD" not in value, f"{card['id']}: {path}"


def test_listing_and_cards_agree(catalog_json):
    assert [c["id"] for c in catalog_json] == [
        u.id for u in default_registry().of("sources").values()
    ]
