"""`awsir sources` end to end, as a user types it."""

from __future__ import annotations

import json

import pytest

from awsir.catalog import load_catalog


def test_listing_shows_every_source_with_summary_columns(cli):
    result = cli("sources")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    header = result.stdout.splitlines()[1:4]
    for column in ("ID", "Title", "Log type", "Enabled by default", "Latency", "Destinations"):
        assert any(column in line for line in header), column
    for source in load_catalog():
        assert source.id in result.stdout


def test_card_shows_every_field_label(cli):
    result = cli("sources", "vpc_flow")
    assert result.returncode == 0, result.stderr
    labels = [
        *("What it records", "Record format", "Latency", "Enabled by default", "Console steps"),
        *("AWS CLI", "Regional or global", "Resource ID / ARN format", "Default retention"),
        *("At rest", "In transit", "Data residency", "Direct cost", "Available since"),
        *("Exceptions and limits", "Incident questions it answers"),
    ]
    for label in labels:
        assert label in result.stdout, label
    assert "169.254.169.254" in result.stdout


def test_card_json_is_the_whole_card(cli):
    card = json.loads(cli("sources", "route53_public_query", "--json").stdout)
    assert card["id"] == "route53_public_query"
    assert card["region"]["type"] == "global"
    assert "us-east-1" in card["region"]["details"]


def test_unknown_id_names_close_matches_and_exits_2(cli):
    result = cli("sources", "vpcflow")
    assert result.returncode == 2
    assert "no log source 'vpcflow'" in result.stderr
    assert "vpc_flow" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_id_without_close_match(cli):
    result = cli("sources", "zzzzzz")
    assert result.returncode == 2
    assert "Did you mean" not in result.stderr and "awsir sources" in result.stderr


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("dns", {"route53_resolver_query", "route53_public_query"}),
        ("s3 object", {"s3_access", "cloudtrail_data_events"}),
        ("who read objects", {"s3_access", "cloudtrail_data_events"}),
        ("console login", {"cloudtrail_trail", "cloudtrail_event_history"}),
        ("ip", {"vpc_flow"}),
    ],
)
def test_answers_finds_the_right_sources(cli, question, expected):
    result = cli("sources", "--answers", question, "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    ids = [s["id"] for s in found]
    assert expected <= set(ids), ids
    assert all(s["matched_questions"] for s in found[: len(expected)])


def test_answers_ranks_questions_above_mentions(cli):
    """Sources that list a DNS question come before ones that merely mention DNS."""
    found = json.loads(cli("sources", "-a", "dns", "--json").stdout)
    ids = [s["id"] for s in found]
    assert set(ids[:2]) == {"route53_resolver_query", "route53_public_query"}
    asks = [any("dns" in q.lower() for q in s["answers"]) for s in found]
    assert asks == sorted(asks, reverse=True), "a DNS question outranks a mention"


def test_answers_table_shows_matching_questions(cli):
    result = cli("sources", "--answers", "dns")
    assert result.returncode == 0
    assert "Questions it answers" in result.stdout and "route53_resolver_query" in result.stdout


def test_answers_without_match_exits_1(cli):
    result = cli("sources", "--answers", "quantum teleportation")
    assert result.returncode == 1
    assert "No source" in result.stderr
    assert cli("sources", "-a", "quantum teleportation", "--json").stdout.strip() == "[]"


def test_id_and_answers_together_is_a_usage_error(cli):
    result = cli("sources", "vpc_flow", "--answers", "dns")
    assert result.returncode == 2


def test_help_and_version(cli):
    help_text = cli("sources", "--help").stdout
    assert "--answers" in help_text and "--json" in help_text
    assert cli("--version").stdout.startswith("awsir ")
    assert cli().returncode in (0, 2)  # no args: help


def test_type_filters_listings_and_answers(cli):
    network = json.loads(cli("sources", "--type", "network", "--json").stdout)
    assert network and {s["log_type"] for s in network} == {"network"}
    assert "vpc_flow" in {s["id"] for s in network}
    dns_in_network = json.loads(cli("sources", "-t", "network", "-a", "dns", "--json").stdout)
    assert all(s["log_type"] == "network" for s in dns_in_network)
    assert cli("sources", "--type", "nonsense").returncode == 2


def test_fields_lists_tables_and_columns(cli):
    result = cli("sources", "vpc_flow", "--fields")
    assert result.returncode == 0, result.stderr
    assert "Table vpc_flow:" in result.stdout and "Table vpc_flow_tgw:" in result.stdout
    assert "account_id" in result.stdout and "account-id" in result.stdout
    spec = json.loads(cli("sources", "vpc_flow", "--fields", "--json").stdout)
    assert spec["tables"]["vpc_flow"]["fields"][0]["name"] == "version"


def test_fields_needs_an_id_and_a_definition(cli):
    assert cli("sources", "--fields").returncode == 2
    no_definition = cli("sources", "opsworks", "--fields")
    assert no_definition.returncode == 1 and "no format definition" in no_definition.stderr
