"""The parser loses nothing: every record is a row or a quarantine entry with file, line and why.

Bad input of every kind named in the issue — wrong field counts, unterminated quotes, bad
encodings, lines over 1 MB, empty files, binary garbage, truncated gzip, invalid JSON, values
that do not convert — gives a clear reason, never a traceback, and counts that reconcile.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import re
import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from awsir.catalog import load_catalog
from awsir.parse.convert import convert, with_origin
from awsir.parse.delimited import DelimitedReader
from awsir.parse.engine import UnknownFormat, parse_files, resolve_format
from awsir.parse.golden import samples
from awsir.parse.reading import Block

CATALOG = load_catalog()
FLOW_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
FLOW = (
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
    "1418530010 1418530070 ACCEPT OK"
)
ALB = (
    'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 '
    '10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" '
    '"curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/'
    '73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 '
    '2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"'
)  # fmt: skip


class Memory:
    def __init__(self):
        self.tables: dict[str, list[pa.Table]] = {}
        self.bad: list[dict] = []

    def rows(self, table, batch):
        self.tables.setdefault(table, []).append(batch)

    def quarantine(self, batch):
        self.bad.extend(batch.to_pylist())

    def all_rows(self, table):
        return [r for b in self.tables.get(table, []) for r in b.to_pylist()]

    def lines(self, table):
        """Line numbers of the rows, read from raw_ref ("file:line")."""
        return [int(r["raw_ref"].rsplit(":", 1)[1]) for r in self.all_rows(table)]


def run(path: Path, **options):
    sink = Memory()
    reports = list(parse_files([path], CATALOG, sink, **options))
    for r in reports:
        assert r.records == r.rows + r.quarantined
    return reports, sink


def write(tmp_path, name, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_wrong_field_counts_are_quarantined_with_line_numbers(tmp_path):
    short = " ".join(FLOW.split()[:9])
    text = "\n".join([FLOW_HEADER, FLOW, short, FLOW + " EXTRA", FLOW]) + "\n"
    [report], sink = run(write(tmp_path, "flow.log", text))
    assert (report.table, report.rows, report.quarantined, report.skipped) == ("vpc_flow", 2, 2, 1)
    assert [(q["line"], q["reason"]) for q in sink.bad] == [
        (3, "expected 14 fields, got 9"),
        (4, "expected 14 fields, got 15"),
    ]
    assert sink.bad[0]["raw"] == short.encode()
    assert sink.lines("vpc_flow") == [2, 5]


def test_unterminated_quote_stays_on_its_line(tmp_path):
    """A CSV reader lets an open quote swallow the next lines, or silently pairs it with the
    next quote on the line and shifts every later field; here that line alone is quarantined."""
    broken = ALB.replace('"curl/7.46.0"', '"curl/7.46.0')
    [report], sink = run(write(tmp_path, "alb.log", "\n".join([ALB, broken, ALB, ALB]) + "\n"))
    assert (report.rows, report.quarantined) == (3, 1)
    assert sink.lines("alb") == [1, 3, 4]
    assert [(q["line"], q["reason"]) for q in sink.bad] == [(2, "unbalanced quotes")]


def test_invalid_utf8_and_overlong_lines(tmp_path):
    bad_bytes = FLOW.replace("ACCEPT", "ACC\xff").encode("latin-1")
    overlong = (FLOW + " " + "x" * (1 << 20)).encode()
    data = b"\n".join([FLOW.encode(), bad_bytes, overlong, FLOW.encode()]) + b"\n"
    [report], sink = run(write(tmp_path, "flow.log", data), format="vpc_flow")
    assert (report.rows, report.quarantined) == (2, 2)
    reasons = {q["line"]: q["reason"] for q in sink.bad}
    assert reasons[2].startswith("not UTF-8 text") and "longer than" in reasons[3]


def test_values_that_do_not_convert_are_quarantined_with_field_and_raw(tmp_path):
    bad = ALB.replace(" 200 200 34 366 ", " abc 200 34 366 ")
    [report], sink = run(write(tmp_path, "alb.log", f"{ALB}\n{bad}\n"))
    assert (report.rows, report.quarantined) == (1, 1)
    [q] = sink.bad
    assert q["line"] == 2 and q["reason"] == "elb_status_code: not a valid int: abc"
    assert q["raw"] == bad.encode()


def test_empty_file_and_binary_garbage(tmp_path):
    [empty], _ = run(write(tmp_path, "empty.log", b""))
    assert (empty.records, empty.problem) == (0, "empty file")
    garbage = bytes(range(256)) * 40
    [report], sink = run(write(tmp_path, "blob.bin", garbage))
    assert report.problem == "format not recognised (give --format)"
    assert report.quarantined == 1 and sink.bad[0]["raw"].startswith(garbage[:100])


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    lines = "\n".join([FLOW_HEADER] + [FLOW] * 20000) + "\n"
    packed = gzip.compress(lines.encode())
    [report], _ = run(write(tmp_path, "flow.log.gz", packed[: len(packed) // 2]))
    assert report.problem and "damaged compressed data" in report.problem
    assert 0 < report.rows < 20000


def test_gzip_crlf_and_blank_lines(tmp_path):
    text = "\r\n".join([FLOW_HEADER, FLOW, "", FLOW, ""]) + "\r\n"
    [report], sink = run(write(tmp_path, "flow.log.gz", gzip.compress(text.encode())))
    assert (report.rows, report.quarantined, report.skipped) == (2, 0, 3)
    assert sink.lines("vpc_flow") == [2, 4]


def test_zip_members_are_files(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/flow.log", f"{FLOW_HEADER}\n{FLOW}\n")
        archive.writestr("b/alb.log", f"{ALB}\n")
    reports, _ = run(write(tmp_path, "logs.zip", buffer.getvalue()))
    zipped = str(tmp_path / "logs.zip")
    assert [(r.file, r.table, r.rows) for r in reports] == [
        (f"{zipped}!a/flow.log", "vpc_flow", 1),
        (f"{zipped}!b/alb.log", "alb", 1),
    ]


def test_json_lines_invalid_and_non_object_records(tmp_path):
    good = json.dumps(
        {
            **{"version": "1.100000", "account_id": "123456789012", "region": "us-east-1"},
            **{"vpc_id": "vpc-1", "query_timestamp": "2024-01-01T00:00:00Z"},
            **{"query_name": "example.com.", "query_type": "A", "query_class": "IN"},
            **{"rcode": "NOERROR", "answers": [], "srcaddr": "10.0.0.1", "srcport": "5353"},
            **{"transport": "UDP", "srcids": {"instance": "i-1"}},
        }
    )
    text = "\n".join([good, "{not json", "[1, 2]", "", good]) + "\n"
    [report], sink = run(write(tmp_path, "r53.jsonl", text), format="route53_resolver")
    assert (report.rows, report.quarantined, report.skipped) == (2, 2, 1)
    assert [(q["line"], q["reason"]) for q in sink.bad] == [
        (2, "invalid JSON"),
        (3, "not a JSON object"),
    ]
    assert sink.lines("route53_resolver") == [1, 5]


def test_json_document_problems(tmp_path):
    [broken], sink = run(
        write(tmp_path, "ct.json", '{"Records": [{"eventName": '), format="cloudtrail"
    )
    assert broken.quarantined == 1 and sink.bad[0]["reason"] == "invalid JSON document"
    _, sink = run(write(tmp_path, "ct2.json", '{"Events": []}'), format="cloudtrail")
    assert sink.bad[0]["reason"] == "no 'Records' list in the document"
    [empty], _ = run(write(tmp_path, "ct3.json", '{"Records": []}'), format="cloudtrail")
    assert (empty.rows, empty.quarantined) == (0, 0)


def test_fields_give_the_order_of_headerless_flow_logs(tmp_path):
    line = "eni-1 10.0.0.5 203.0.113.9 443 REJECT"
    _, sink = run(
        write(tmp_path, "cw.log", line + "\n"),
        format="vpc_flow",
        fields=["interface-id", "srcaddr", "dstaddr", "dstport", "action"],
    )
    [row] = sink.all_rows("vpc_flow")
    assert (row["srcaddr"], row["dstport"], row["action"], row["version"]) == (
        "10.0.0.5",
        443,
        "REJECT",
        None,
    )


def test_older_and_newer_alb_lines(tmp_path):
    older = " ".join(re.findall(r'"[^"]*"|[^ ]+', ALB)[:18])  # before AWS appended fields
    newer = ALB + ' "-" "-" TID_1 "a" "b" "c" "d" "e"'
    [report], sink = run(write(tmp_path, "alb.log", f"{older}\n{ALB}\n{newer}\n"), format="alb")
    assert report.quarantined == 0
    rows = sink.all_rows("alb")
    assert rows[0]["domain_name"] is None and rows[1]["request"].startswith("GET")


def test_unknown_format_is_a_clear_error():
    with pytest.raises(UnknownFormat, match=r"unknown format 'nope'; known: .*vpc_flow"):
        resolve_format(CATALOG, "nope")
    assert resolve_format(CATALOG, "alb")[0] == "alb"
    assert resolve_format(CATALOG, "vpc_flow")[0] == "vpc_flow"


TABLES = {n: t for s in CATALOG if s.parse for n, t in s.parse.tables.items()}


@pytest.mark.parametrize(
    ("table", "path"),
    [(t, p) for t, p in samples(CATALOG) if TABLES[t].reader == "delimited"],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_fast_and_exact_paths_agree(table, path):
    """The fast path is an optimisation only: on clean input it gives what the exact path gives
    (it types and null-cleans some columns itself, so compare what comes out of conversion)."""
    spec = TABLES[table]
    block = Block(1, path.read_bytes())
    fast = DelimitedReader(spec, str(path)).read(block)
    exact = DelimitedReader(spec, str(path))._exact(block)
    assert fast.strings is not None and exact.strings is not None
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    converted = [
        convert(con, table, spec, with_origin(split.strings, str(path)), split.final)
        for split in (fast, exact)
    ]
    assert converted[0].to_pylist() == converted[1].to_pylist()
    assert converted[0].schema == converted[1].schema
    assert fast.skipped == exact.skipped and not fast.quarantined and not exact.quarantined


def test_a_value_arrow_cannot_type_is_quarantined_by_the_sql_conversion(tmp_path):
    """The fast path types ints itself; one bad int in a block sends that block through the
    SQL conversion, which names the field and value for that line only."""
    bad = ALB.replace(" 200 200 ", " 2OO 200 ")  # elb_status_code, with letters O
    text = "\n".join([ALB] * 50 + [bad]) + "\n"
    [report], sink = run(write(tmp_path, "alb.log", text), format="alb")
    assert (report.rows, report.quarantined) == (50, 1)
    [entry] = sink.bad
    assert (entry["line"], entry["reason"]) == (51, "elb_status_code: not a valid int: 2OO")
    fine = sink.all_rows("alb")
    assert fine[0]["elb_status_code"] == 200 and fine[0]["target_port"] == 80


def test_concatenated_flow_log_files_repeat_their_header(tmp_path):
    text = "\n".join([FLOW_HEADER, FLOW, FLOW_HEADER, FLOW]) + "\n"
    [report], sink = run(write(tmp_path, "flow.log", text))
    assert (report.rows, report.quarantined, report.skipped) == (2, 0, 2)
    assert sink.lines("vpc_flow") == [2, 4]


def test_headerless_all_fields_layout_is_assumed_and_said(tmp_path):
    extra = "vpc-1 subnet-1 i-0123 19 IPv4 10.0.0.1 10.0.0.2"  # the v3 fields, in AWS's order
    [report], sink = run(write(tmp_path, "flow.log", f"{FLOW} {extra}\n"), format="vpc_flow")
    [row] = sink.all_rows("vpc_flow")
    assert (row["vpc_id"], row["tcp_flags"], row["pkt_dstaddr"]) == ("vpc-1", 19, "10.0.0.2")
    assert (
        report.problem and "assumed AWS's documented order of the first 21 fields" in report.problem
    )
    [odd], _ = run(write(tmp_path, "odd.log", f"{FLOW} vpc-1 subnet-1\n"), format="vpc_flow")
    assert odd.quarantined == 1  # 16 fields is no documented version's full set


@pytest.mark.parametrize("shape", ["object", "array"])
def test_pretty_printed_json_records(tmp_path, shape):
    record = {
        **{"query_timestamp": "2024-01-01T00:00:00Z", "query_name": "example.com."},
        **{"query_type": "A", "rcode": "NOERROR", "srcaddr": "10.0.0.1", "vpc_id": "vpc-1"},
    }
    data = record if shape == "object" else [record, record]
    path = write(tmp_path, "r53.json", json.dumps(data, indent=2))
    [report], _ = run(path, format="route53_resolver")
    assert (report.rows, report.quarantined) == ((1 if shape == "object" else 2), 0)


@pytest.mark.parametrize("block_bytes", [64, 333, 4096])
def test_small_blocks_give_the_same_rows_and_lines(tmp_path, monkeypatch, block_bytes):
    """Files are read in bounded blocks; where the cuts fall must not change anything."""
    lines = [FLOW_HEADER] + [FLOW.replace("20641", str(20000 + i)) for i in range(60)]
    lines[20] = "2 too short"
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = write(tmp_path, "flow.log.gz", data)
    [whole], whole_sink = run(path)
    monkeypatch.setattr("awsir.parse.reading.BLOCK_BYTES", block_bytes)
    [small], small_sink = run(path)
    assert (small.rows, small.quarantined, small.skipped) == (59, 1, 1)
    assert (whole.rows, whole.quarantined, whole.skipped) == (59, 1, 1)
    assert small_sink.lines("vpc_flow") == whole_sink.lines("vpc_flow")
    assert [r["srcport"] for r in small_sink.all_rows("vpc_flow")][:3] == [20000, 20001, 20002]
    assert [q["line"] for q in small_sink.bad] == [21]


def _payload(events, group="/aws/vpc/flows", stream="eni-1", kind="DATA_MESSAGE"):
    return {
        "messageType": kind, "owner": "123456789012", "logGroup": group, "logStream": stream,
        "subscriptionFilters": ["to-firehose"],
        "logEvents": [{"id": str(i), "timestamp": 1715681268000 + i, "message": m}
                      for i, m in enumerate(events)],
    }  # fmt: skip


def test_cloudwatch_subscription_payloads(tmp_path):
    """Firehose writes gzip'd payloads back to back; control messages are counted, not rows."""
    flows = _payload([FLOW, FLOW.replace("ACCEPT", "REJECT")])
    app = _payload(["user alice logged in", "boom\nstack line"], "/aws/lambda/f", "s1")
    control = _payload(
        ["CWL CONTROL MESSAGE: Checking health of destination"], kind="CONTROL_MESSAGE"
    )
    data = gzip.compress("".join(json.dumps(p) for p in (control, flows, app)).encode())
    reports, sink = run(write(tmp_path, "firehose-1.gz", data))
    by_table = {(r.table, r.file.rsplit("!", 1)[-1]): r for r in reports}
    assert by_table[("cloudwatch_logs", str(tmp_path / "firehose-1.gz"))].skipped == 1
    assert by_table[("vpc_flow", "/aws/vpc/flows/eni-1")].rows == 2
    assert by_table[("cloudwatch_logs", "/aws/lambda/f/s1")].rows == 2
    app_rows = sink.all_rows("cloudwatch_logs")
    assert [r["message"] for r in app_rows] == ["user alice logged in", "boom stack line"]
    assert app_rows[0]["time"].isoformat().startswith("2024-05-14T10:07:48")
    assert app_rows[0]["account_id"] == "123456789012"


def test_lambda_form_of_a_subscription_payload(tmp_path):
    packed = base64.b64encode(gzip.compress(json.dumps(_payload([FLOW])).encode())).decode()
    [report], _ = run(write(tmp_path, "event.json", json.dumps({"awslogs": {"data": packed}})))
    assert (report.table, report.rows) == ("vpc_flow", 1)


def test_cloudwatch_export_files(tmp_path):
    route53 = (
        "1.0 2017-12-13T08:16:02.130Z Z123412341234 example.com A NOERROR UDP FRA6 192.168.1.1 -"
    )
    export = "".join(f"2017-12-13T08:16:0{i}.130Z {route53}\n" for i in range(3))
    [report], sink = run(write(tmp_path, "000000", export))
    assert (report.table, report.rows) == ("route53_public_query", 3)
    app = "2024-05-14T10:07:48.000Z starting worker\n2024-05-14T10:07:49.000Z worker ready\n"
    [generic], sink = run(write(tmp_path, "000001", app))
    assert (generic.table, generic.rows) == ("cloudwatch_logs", 2)
    assert [r["message"] for r in sink.all_rows("cloudwatch_logs")] == [
        "starting worker",
        "worker ready",
    ]


CT_RECORD = {
    "eventVersion": "1.08", "eventTime": "2024-05-14T10:21:08Z", "eventSource": "iam.amazonaws.com",
    "eventName": "CreateAccessKey", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7",
    "userAgent": "aws-cli/2.15.0", "recipientAccountId": "123456789012",
    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"},
    "eventID": "0f4a6b5c-1d2e-4f3a-9b8c-7d6e5f4a3b2c", "eventType": "AwsApiCall",
}  # fmt: skip


@pytest.mark.parametrize(
    "shape",
    [
        "lookup_events", "lookup_event_lines", "eventbridge_lines", "bare_records",
        "pretty_record", "records_array", "records_array_sorted_keys",
    ],
)  # fmt: skip
def test_cloudtrail_records_outside_trail_files(tmp_path, shape):
    second = {**CT_RECORD, "eventName": "AttachUserPolicy"}
    records = (CT_RECORD, second)
    text = {
        "lookup_events": json.dumps(
            {"Events": [{"EventId": "1", "CloudTrailEvent": json.dumps(r)} for r in records]}
        ),
        "lookup_event_lines": "\n".join(
            json.dumps({"EventName": r["eventName"], "CloudTrailEvent": json.dumps(r)})
            for r in records
        ),
        "eventbridge_lines": "\n".join(
            json.dumps({"version": "0", "detail-type": "AWS API Call via CloudTrail", "detail": r})
            for r in records
        ),
        "bare_records": "\n".join(json.dumps(r) for r in (CT_RECORD, second)),
        "pretty_record": json.dumps(CT_RECORD, indent=4),
        # a JSON array of records (Grimoire, jq '.Records'), as printed with sorted keys too
        "records_array": json.dumps(list(records)),
        "records_array_sorted_keys": json.dumps(list(records), indent=3, sort_keys=True),
    }[shape]
    [report], sink = run(write(tmp_path, "events.json", text))
    assert report.table == "cloudtrail" and report.quarantined == 0
    rows = sink.all_rows("cloudtrail")
    assert rows[0]["eventName"] == "CreateAccessKey"
    assert rows[0]["actor"] == "arn:aws:iam::123456789012:user/alice"
    assert len(rows) == (1 if shape == "pretty_record" else 2)


def test_a_records_array_is_read_under_a_forced_format_too(tmp_path):
    """``--format cloudtrail`` still unwraps the table's own wrappers."""
    array = json.dumps([CT_RECORD, {**CT_RECORD, "eventName": "AttachUserPolicy"}], indent=2)
    [report], sink = run(write(tmp_path, "export.json", array), format="cloudtrail")
    assert report.table == "cloudtrail" and report.quarantined == 0 and report.rows == 2
    assert [r["eventName"] for r in sink.all_rows("cloudtrail")] == [
        "CreateAccessKey", "AttachUserPolicy"
    ]  # fmt: skip
    not_trail = json.dumps([{"eventVersion": "2.1", "s3": {}}])  # no eventSource: not CloudTrail
    [other], _ = run(write(tmp_path, "s3.json", not_trail))
    assert other.table != "cloudtrail"


def test_findings_in_eventbridge_events(tmp_path):
    finding = {
        **{"SchemaVersion": "2018-10-08", "Id": "f-1", "AwsAccountId": "123456789012"},
        **{"ProductArn": "arn:aws:securityhub:us-east-1::product/aws/guardduty"},
        **{"Title": "Unusual API call", "Severity": {"Label": "HIGH"}},
        **{"UpdatedAt": "2024-05-14T10:00:00Z", "CreatedAt": "2024-05-14T10:00:00Z"},
    }
    detail = {"findings": [finding] * 3}
    event = {"detail-type": "Security Hub Findings - Imported", "detail": detail}
    [report], _ = run(write(tmp_path, "sh.json", json.dumps(event)))
    assert (report.table, report.rows) == ("securityhub", 3)
    [single], _ = run(write(tmp_path, "finding.json", json.dumps(finding, indent=2)))
    assert (single.table, single.rows) == ("securityhub", 1)


def test_awsir_output_is_not_mistaken_for_aws_records(tmp_path):
    """Rows awsir wrote (they embed AWS field names) are not read back as AWS logs."""
    for _, path in samples(CATALOG):
        golden = path.with_name(path.name + ".expected.jsonl")
        [report], _ = run(golden)
        assert report.table is None, f"{golden.name} was read as {report.table}"


def test_flow_logs_delivered_as_parquet(tmp_path):
    """AWS's Parquet delivery names columns like awsir's derived names; rows keep their numbers."""
    import pyarrow.parquet as pq

    flows = pa.table({
        "version": pa.array([5, 5], pa.int32()), "account_id": ["123456789012"] * 2,
        "interface_id": ["eni-1", "eni-1"], "srcaddr": ["10.0.0.5", "10.0.0.6"],
        "dstaddr": ["203.0.113.9"] * 2, "srcport": pa.array([443, 22], pa.int32()),
        "dstport": pa.array([51000, 22], pa.int32()), "protocol": pa.array([6, 6], pa.int32()),
        "packets": pa.array([10, 1], pa.int64()), "bytes": pa.array([8400, 40], pa.int64()),
        "start": pa.array([1715681268, 1715681270], pa.int64()),
        "end": pa.array([1715681328, 1715681330], pa.int64()),
        "action": ["ACCEPT", "REJECT"], "log_status": ["OK", "OK"],
        "flow_direction": ["egress", "ingress"],
    })  # fmt: skip
    path = tmp_path / "123456789012_vpcflowlogs_us-east-1_fl-1_20240514T1000Z_hash.log.parquet"
    pq.write_table(flows, path, row_group_size=1)
    [report], sink = run(path)
    assert (report.table, report.rows, report.quarantined) == ("vpc_flow", 2, 0)
    rows = sink.all_rows("vpc_flow")
    assert [r["outcome"] for r in rows] == ["success", "denied"] and sink.lines("vpc_flow") == [
        1,
        2,
    ]
    assert rows[1]["flow_direction"] == "ingress" and rows[0]["bytes"] == 8400


def test_cloudtrail_record_that_does_not_convert_keeps_its_raw_text(tmp_path):
    bad = {**CT_RECORD, "eventTime": "yesterday"}
    doc = json.dumps({"Records": [CT_RECORD, bad, 7]})
    [report], sink = run(write(tmp_path, "ct.json", doc), format="cloudtrail")
    assert (report.rows, report.quarantined) == (1, 2)
    reasons = {q["line"]: (q["reason"], q["raw"]) for q in sink.bad}
    assert reasons[2][0] == "eventTime: not a valid timestamp: yesterday"
    assert json.loads(reasons[2][1])["eventTime"] == "yesterday"
    assert reasons[3] == ("not a record of this format", b"7")


def test_paths_that_cannot_be_read_get_a_clear_message(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    [report], _ = run(fifo)  # would block forever if opened
    assert report.problem == "not a regular file: not read"

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("flow.log", f"{FLOW_HEADER}\n{FLOW}\n")
    data = bytearray(buffer.getvalue())
    data[6] |= 1  # local header: the member says it is encrypted
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 1  # and so does the central directory
    [member], _ = run(write(tmp_path, "locked.zip", bytes(data)))
    assert "cannot read the archive member" in (member.problem or "")
    assert "encrypted" in (member.problem or "")

    denied = write(tmp_path, "denied.log", FLOW)
    real_open = Path.open

    def refuse(self, *args, **kwargs):
        if self == denied:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    [report], _ = run(denied)
    assert report.problem == "cannot read: Permission denied"


def test_api_gateway_execution_logs_from_a_subscription_take_their_events_times(tmp_path):
    """Execution log messages carry no time; the CloudWatch event's time becomes theirs."""
    steps = [
        "(0b9e7c3d-1a2f-4e5d-8c6b-7a9f0e1d2c3b) Starting execution for request: 0b9e7c3d",
        "(0b9e7c3d-1a2f-4e5d-8c6b-7a9f0e1d2c3b) HTTP Method: DELETE, Resource Path: /orders/9",
        "(0b9e7c3d-1a2f-4e5d-8c6b-7a9f0e1d2c3b) Method completed with status: 403",
    ]
    payload = _payload(steps, "API-Gateway-Execution-Logs_a1b2c3d4e5/prod", "7f3e")
    [report], sink = run(
        write(tmp_path, "firehose-2.gz", gzip.compress(json.dumps(payload).encode()))
    )
    assert (report.table, report.rows, report.quarantined) == ("apigateway_execution", 3, 0)
    rows = sink.all_rows("apigateway_execution")
    assert [r["time"].isoformat() for r in rows] == [
        "2024-05-14T10:07:48+00:00",
        "2024-05-14T10:07:48.001000+00:00",
        "2024-05-14T10:07:48.002000+00:00",
    ]
    assert [r["requestid"] for r in rows] == ["0b9e7c3d-1a2f-4e5d-8c6b-7a9f0e1d2c3b"] * 3
    assert (rows[1]["action"], rows[1]["resource"]) == ("DELETE /orders/9", "/orders/9")
    assert rows[2]["outcome"] == "denied"


def test_logfmt_lines(tmp_path):
    """Quoted values keep '=' and escaped quotes; undeclared keys are kept in _extra; a line
    that is not key=value pairs is quarantined, blank lines are skipped."""
    lines = [
        'time="2024-05-14T09:21:05Z" level=warning msg="access denied" '
        'error="bad token: \\"x=1 arn=fake\\"" method=POST path=/authenticate',
        "",
        'time="2024-05-14T09:22:05Z" level=info msg="access granted" username=alice '
        'session= newkey="a b" other=1',
        'time="2024-05-14T09:23:05Z" level=info msg="unterminated',
    ]
    path = write(tmp_path, "authenticator-0123abcd.log", "\n".join(lines) + "\n")
    [report], sink = run(path)
    assert (report.table, report.rows, report.quarantined, report.skipped) == (
        "eks_authenticator", 2, 1, 1,
    )  # fmt: skip
    denied, granted = sink.all_rows("eks_authenticator")
    assert denied["error"] == 'bad token: "x=1 arn=fake"' and denied["arn"] is None
    assert denied["outcome"] == "denied"
    assert (granted["username"], granted["session"]) == ("alice", None)
    assert granted["_extra"] == 'newkey="a b" other=1'
    assert [(q["line"], q["reason"]) for q in sink.bad] == [(4, "not key=value pairs")]


def _pascal(value):
    """What the AWS CLI prints for a camelCase API: identifier-like keys in PascalCase."""
    if isinstance(value, dict):
        return {
            (k[0].upper() + k[1:] if re.fullmatch(r"[a-z][A-Za-z0-9]*", k) else k): _pascal(v)
            for k, v in value.items()
        }
    return [_pascal(v) for v in value] if isinstance(value, list) else value


@pytest.mark.parametrize("sample", ["ec2_network_findings.jsonl", "iam_access_key_findings.jsonl"])
def test_guardduty_get_findings_output_reads_like_the_s3_export(tmp_path, sample):
    """`aws guardduty get-findings` prints {"Findings": [...]} with PascalCase keys; its rows
    are the rows of the same findings exported to S3 (camelCase)."""
    exported = Path(CATALOG.sources["guardduty"].unit.path).parent / "samples/guardduty" / sample
    findings = [json.loads(line) for line in exported.read_text().splitlines() if line.strip()]
    cli = write(
        tmp_path, "get-findings.json", json.dumps({"Findings": _pascal(findings)}, indent=4)
    )
    [report], sink = run(cli)
    assert (report.table, report.rows, report.quarantined) == ("guardduty", len(findings), 0)
    [_], reference = run(exported)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "raw_ref"} for r in rows]  # noqa: E731
    assert strip(sink.all_rows("guardduty")) == strip(reference.all_rows("guardduty"))


def test_cloudtrail_lake_query_results(tmp_path):
    """get-query-results rows are lists of one-key objects, every value a string: keys in any
    case, dotted keys into their field's object, JSON text parsed; a malformed row is
    quarantined with its index."""
    rows = [
        [
            {"eventtime": "2024-05-14 09:12:44.000"},
            {"eventname": "CreateAccessKey"},
            {"eventsource": "iam.amazonaws.com"},
            {"useridentity": json.dumps({"type": "IAMUser", "arn": "arn:aws:iam::1:user/a"})},
            {"requestparameters": '{"userName": "mallory"}'},
            {"readonly": "false"},
        ],
        [
            {"eventTime": "2024-05-14 09:13:02.000"},
            {"eventName": "DeleteTrail"},
            {"userIdentity.arn": "arn:aws:sts::1:assumed-role/ci/x"},
            {"userIdentity.type": "AssumedRole"},
            {"errorCode": "AccessDenied"},
        ],
        {"eventName": "not a list of cells"},
    ]
    output = {"QueryStatus": "FINISHED", "QueryStatistics": {"ResultsCount": 3}}
    path = write(tmp_path, "lake.json", json.dumps({**output, "QueryResultRows": rows}, indent=2))
    [report], sink = run(path)
    assert (report.table, report.rows, report.quarantined) == ("cloudtrail", 2, 1)
    first, second = sink.all_rows("cloudtrail")
    assert first["time"].isoformat() == "2024-05-14T09:12:44+00:00"
    assert (first["eventName"], first["readOnly"]) == ("CreateAccessKey", False)
    assert json.loads(first["userIdentity"]) == {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a"}
    assert first["actor"] == "arn:aws:iam::1:user/a" and first["resource"] == "mallory"
    assert json.loads(second["userIdentity"]) == {
        "arn": "arn:aws:sts::1:assumed-role/ci/x",
        "type": "AssumedRole",
    }
    assert (second["actor"], second["outcome"]) == ("arn:aws:sts::1:assumed-role/ci/x", "denied")
    [bad] = sink.bad
    assert bad["line"] == 3


ACCESS_FORMAT = json.dumps(
    {
        "request_id": "$context.requestId", "client_ip": "$context.identity.sourceIp",
        "request_time_epoch": "$context.requestTimeEpoch", "http_method": "$context.httpMethod",
        "resource_path": "$context.resourcePath", "status_code": "$context.status",
        "user_agent": "$context.identity.userAgent",
        "waf_response_code": "$context.wafResponseCode",
        "error_message": "$context.error.message", "custom_note": "$context.customVariable",
    }
)  # fmt: skip


def test_api_gateway_access_logs_in_a_custom_json_format(tmp_path):
    """With the stage's format, each field is read from the key holding its variable."""
    record = {
        "request_id": "ebf87aa3", "client_ip": "203.0.113.9", "request_time_epoch": "1678451388661",
        "http_method": "POST", "resource_path": "/admin", "status_code": "403",
        "user_agent": "sqlmap/1.7", "waf_response_code": "WAF_BLOCK",
        "error_message": "Forbidden", "custom_note": "x", "ip": "198.51.100.1",
    }  # fmt: skip
    path = write(tmp_path, "custom.log", json.dumps(record) + "\n")
    [report], sink = run(path, format="apigateway_access", fields=[ACCESS_FORMAT])
    assert (report.rows, report.quarantined) == (1, 0)
    [row] = sink.all_rows("apigateway_access")
    assert row["time"].isoformat() == "2023-03-10T12:29:48.661000+00:00"
    assert (row["ip"], row["src_ip"], row["user_agent"]) == (
        "203.0.113.9",
        "203.0.113.9",
        "sqlmap/1.7",
    )
    assert (row["action"], row["status"], row["outcome"]) == ("POST /admin", 403, "denied")
    assert (row["wafResponseCode"], row["errorMessage"]) == ("WAF_BLOCK", "Forbidden")
    assert row["caller"] is None  # not in the format: not read from a key of the same name


def test_fields_that_do_not_fit_the_format_are_usage_errors(tmp_path):
    path = write(tmp_path, "custom.log", "{}\n")
    with pytest.raises(ValueError, match="takes the format it was logged with"):
        run(path, format="apigateway_access", fields=["requestId", "ip"])
    with pytest.raises(ValueError, match="none of this format's variables"):
        run(path, format="apigateway_access", fields=['{"a": "$context.nothingKnown"}'])


def test_subscription_payload_problems_are_reported_not_dropped(tmp_path):
    """An event without a message and a payload of no known type are named in the report;
    damaged payload text is quarantined whole with the reason."""
    flows = _payload([FLOW, FLOW])
    flows["logEvents"].append({"id": "9", "timestamp": 1715681268009})
    odd = {**_payload([FLOW]), "messageType": "SOMETHING_NEW"}
    data = gzip.compress((json.dumps(flows) + json.dumps(odd)).encode())
    reports, sink = run(write(tmp_path, "firehose-3.gz", data))
    by_table = {r.table: r for r in reports}
    assert by_table["vpc_flow"].rows == 2
    problem = by_table["cloudwatch_logs"].problem or ""
    assert "1 log event(s) without a message" in problem
    assert "1 payload(s) of no known messageType" in problem
    damaged = gzip.compress((json.dumps(flows) + '{"messageType": "DATA_MESSAGE", "logEv').encode())
    [report], sink = run(write(tmp_path, "firehose-4.gz", damaged))
    assert report.problem.startswith("not a CloudWatch Logs subscription payload")
    assert report.quarantined == 1 and sink.bad[0]["reason"] == report.problem


def test_logfmt_line_with_bad_bytes_is_quarantined_alone(tmp_path):
    good = 'time="2024-05-14T09:22:05Z" level=info msg="access granted" username=alice'
    data = (good + "\n" + good.replace("alice", "al\xffce") + "\n" + good + "\n").encode("latin-1")
    [report], sink = run(write(tmp_path, "authenticator-99aa.log", data))
    assert (report.rows, report.quarantined, report.skipped) == (2, 1, 0)
    assert [(q["line"], q["reason"]) for q in sink.bad] == [(2, "not UTF-8 text (byte 71)")]
