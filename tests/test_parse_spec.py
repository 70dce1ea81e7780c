"""Format definition schema, column naming, the reference splitter and detection."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from awsir.catalog import load_catalog
from awsir.parse.detect import detect, head_of
from awsir.parse.spec import Table, column_name
from awsir.parse.tokens import split_line


def _table(**overrides) -> Table:
    spec = {
        "reader": "delimited",
        "layout": "fixed",
        "quote": '"',
        "brackets": True,
        "detect": {"line": "^x "},
        "fields": [{"name": n, "doc": "a field"} for n in ("a", "b", "c")],
    }
    return Table.model_validate({**spec, **overrides})


@pytest.mark.parametrize(
    ("aws", "column"),
    [
        ("account-id", "account_id"),
        ("cs(User-Agent)", "cs_user_agent"),
        ("Bucket Owner", "bucket_owner"),
        ("Bucket", "bucket"),
        ("client:port", "client_port"),
        ("x-edge-location", "x_edge_location"),
    ],
)
def test_column_name(aws, column):
    assert column_name(aws) == column


def test_json_keys_keep_their_case():
    assert column_name("userIdentity", keep_case=True) == "userIdentity"
    assert column_name("SchemaVersion", keep_case=True) == "SchemaVersion"
    assert column_name("cs(Host)", keep_case=True) == "cs_host"
    table = _table(reader="json_lines", layout="json", quote=None, brackets=False)
    assert table.fields[0].columns == ["a"]


def test_split_line_quotes_brackets_and_dashes():
    line = 'a [06/Feb/2019:00:00:38 +0000] "GET /x?y=1 HTTP/1.1" - "Mozilla/5.0 (X11)"'
    assert split_line(line, _table()) == [
        "a",
        "06/Feb/2019:00:00:38 +0000",
        "GET /x?y=1 HTTP/1.1",
        "-",
        "Mozilla/5.0 (X11)",
    ]


def test_split_line_plain_keeps_positions():
    table = _table(quote=None, brackets=False, delimiter="\t")
    assert split_line("a\t-\t\tb", table) == ["a", "-", "", "b"]


def test_unterminated_quote_stays_on_its_line():
    assert split_line('a "b c', _table()) == ["a", '"b', "c"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fields": [{"name": "a", "doc": "xx"}, {"name": "a", "doc": "yy"}]}, "duplicate field"),
        ({"fields": [{"name": "a-b", "doc": "xx"}, {"name": "a_b", "doc": "yy"}]}, "same column"),
        ({"layout": "header"}, "default_order"),
        ({"layout": "json"}, "delimited readers need a text layout"),
        ({"records": "Records"}, "records is required by"),
        ({"min_fields": 9}, "min_fields"),
        ({"detect": {}}, "at least one of"),
        ({"detect": {"line": "(unclosed"}}, "invalid regular expression"),
        ({"fields": [{"name": "client", "type": "ip_port", "doc": "xx"}]}, "X:port"),
        ({"fields": [{"name": "t", "format": "%Y", "doc": "xx"}]}, "timestamp fields only"),
    ],
)
def test_invalid_definitions_are_rejected(overrides, message):
    with pytest.raises(ValidationError, match=message):
        _table(**overrides)


def test_detection_prefers_header_then_line_then_key():
    catalog = load_catalog()
    header = "version account-id interface-id srcaddr dstaddr"
    assert detect(catalog, "x.log", head_of(header.encode())).table == "vpc_flow"
    found = detect(catalog, "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/01/f.log.gz", [])
    assert found is not None and found.table == "vpc_flow" and found.strength == 1
    assert detect(catalog, "notes.txt", head_of(b"hello world\n")) is None


def test_ip_port_field_becomes_two_columns():
    table = _table(fields=[{"name": "client:port", "type": "ip_port", "doc": "client address"}])
    assert table.fields[0].columns == ["client_ip", "client_port"]
    with pytest.raises(ValidationError, match="same column"):
        _table(
            fields=[
                {"name": "client:port", "type": "ip_port", "doc": "client address"},
                {"name": "client_ip", "doc": "clashes with the derived column"},
            ]
        )
