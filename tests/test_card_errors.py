"""A broken card gets an error naming its file, line and field — never a traceback."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from awsir import yamlio
from awsir.catalog import CatalogError, load_source
from awsir.registry import default_registry


@pytest.fixture(scope="module")
def good_card() -> dict:
    unit = default_registry().of("sources")["cloudtrail_trail"]
    data, _ = yamlio.load(unit.path)
    return data


def _unit_for(tmp_path: Path, data: dict | str):
    from awsir.registry import Unit

    path = tmp_path / "mysource" / "source.yaml"
    path.parent.mkdir()
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False, width=1000)
    path.write_text(text)
    return Unit("sources", "mysource", path, "test")


def _error(tmp_path, data) -> str:
    with pytest.raises(CatalogError) as exc:
        load_source(_unit_for(tmp_path, data))
    return str(exc.value)


def test_good_card_round_trips(tmp_path, good_card):
    assert load_source(_unit_for(tmp_path, good_card)).card.title == good_card["title"]


def test_missing_field_names_file_and_field(tmp_path, good_card):
    card = copy.deepcopy(good_card)
    del card["delivery"]["max_minutes"]
    message = _error(tmp_path, card)
    assert "mysource/source.yaml:" in message
    assert "delivery.max_minutes: Field required" in message


def test_wrong_type_names_line(tmp_path, good_card):
    card = copy.deepcopy(good_card)
    card["delivery"]["max_minutes"] = "fifteen"
    path_line = next(
        i
        for i, line in enumerate(yaml.safe_dump(card, sort_keys=False, width=1000).splitlines(), 1)
        if "max_minutes" in line
    )
    message = _error(tmp_path, card)
    assert f"source.yaml:{path_line}: delivery.max_minutes:" in message


@pytest.mark.parametrize("placeholder", ["TBD", "-", "?", "N/A", "unknown", "see docs", "x TODO y"])
def test_placeholder_is_rejected(tmp_path, good_card, placeholder):
    card = copy.deepcopy(good_card)
    card["retention"]["options"] = placeholder
    message = _error(tmp_path, card)
    assert "retention.options" in message and "placeholder" in message


def test_unknown_key_is_rejected(tmp_path, good_card):
    card = copy.deepcopy(good_card)
    card["retension"] = "typo"
    assert "retension: Extra inputs are not permitted" in _error(tmp_path, card)


def test_bad_enum_lists_every_problem(tmp_path, good_card):
    card = copy.deepcopy(good_card)
    card["log_type"] = "auditing"
    card["destinations"] = ["s3", "splunk"]
    message = _error(tmp_path, card)
    assert "log_type:" in message and "destinations.1:" in message


def test_yaml_1_1_booleans_stay_words(tmp_path, good_card):
    """`enabled: no` means the word no, not False: YAML 1.1's yes/no booleans are off."""
    text = yaml.safe_dump(good_card, sort_keys=False, width=1000).replace(
        "enabled: 'no'", "enabled: no"
    )
    assert "enabled: no\n" in text
    assert load_source(_unit_for(tmp_path, text)).card.default.enabled == "no"


def test_non_aws_doc_url_is_rejected(tmp_path, good_card):
    card = copy.deepcopy(good_card)
    card["docs"] = ["https://example.com/cloudtrail"]
    assert "docs.0" in _error(tmp_path, card)


def test_invalid_yaml_names_line(tmp_path):
    message = _error(tmp_path, "title: ok\nrecords: [unclosed\nlog_type: audit\n")
    assert "mysource/source.yaml:" in message and "invalid YAML" in message


def test_card_must_be_a_mapping(tmp_path):
    assert "expected a mapping of fields" in _error(tmp_path, "- just\n- a list\n")
