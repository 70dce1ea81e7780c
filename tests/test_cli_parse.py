"""`awsir parse` end to end, as a responder runs it on files they were handed."""

from __future__ import annotations

import gzip
import json
import re

import duckdb
import pyarrow.parquet as pq

from awsir.catalog import load_catalog

SOURCES = load_catalog().sources


def _sample(source: str, table: str):
    return sorted(SOURCES[source].unit.path.parent.glob(f"samples/{table}/*.log"))[0]


def test_jsonl_to_stdout_and_summary_to_stderr(cli):
    result = cli("parse", str(_sample("vpc_flow", "vpc_flow")))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(r["_table"] == "vpc_flow" for r in rows)
    assert rows[0]["start"].endswith("Z") and isinstance(rows[0]["dstport"], int)
    assert "awsir parse" in result.stderr and "vpc_flow" in result.stderr


def test_folder_output_in_every_format(cli, tmp_path):
    flow, alb = _sample("vpc_flow", "vpc_flow"), _sample("alb", "alb")
    bad = tmp_path / "mixed.log.gz"
    bad.write_bytes(gzip.compress(flow.read_bytes() + b"2 not a flow record\n"))
    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / fmt
        result = cli("parse", str(bad), str(alb), "--out", fmt, "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert list((out / "vpc_flow").glob(f"part-*.{fmt}"))
        assert list((out / "alb").glob(f"part-*.{fmt}"))
        [part] = (out / "quarantine").glob("part-*.jsonl")
        [quarantined] = [json.loads(line) for line in part.open()]
        assert re.fullmatch(r"expected \d+ fields, got 5", quarantined["reason"])
        assert quarantined["line"] > 1
    [(count,)] = duckdb.sql(f"SELECT count(*) FROM '{tmp_path}/parquet/alb/*.parquet'").fetchall()
    assert count > 0
    # Times and numbers carry min/max statistics (engines skip row groups by time); text does not.
    [part] = (tmp_path / "parquet" / "alb").glob("part-*.parquet")
    group = pq.ParquetFile(part).metadata.row_group(0)
    columns = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    assert columns["time"].is_stats_set and columns["elb_status_code"].is_stats_set
    assert not columns["message"].is_stats_set and not columns["user_agent"].is_stats_set


def test_parallel_workers_write_parts_and_replace_an_earlier_run(cli, tmp_path):
    """Two workers, many files: every row once, whichever worker took its file; a second run
    into the same folder replaces the first run's parts instead of adding to them."""
    sample = _sample("vpc_flow", "vpc_flow")
    for i in range(6):
        (tmp_path / "in" / str(i)).mkdir(parents=True)
        (tmp_path / "in" / str(i) / sample.name).write_bytes(sample.read_bytes())
    expected = 6 * len([line for line in sample.read_text().splitlines()[1:] if line.strip()])
    out = tmp_path / "out"
    for _ in range(2):
        result = cli("parse", str(tmp_path / "in"), "-o", str(out), "--out", "parquet", "-j", "2")
        assert result.returncode == 0, result.stderr
        assert f"{expected:,}" in result.stderr
        [(rows, refs)] = duckdb.sql(
            f"SELECT count(*), count(DISTINCT raw_ref) FROM '{out}/vpc_flow/*.parquet'"
        ).fetchall()
        assert rows == refs == expected
    (out / "vpc_flow" / "part-7.parquet").write_bytes(b"left by a run with more workers")
    assert cli("parse", str(sample), "-o", str(out), "--out", "parquet").returncode == 0
    assert sorted(p.name for p in (out / "vpc_flow").iterdir()) == ["part-0.parquet"]


def test_forced_format_and_fields(cli, tmp_path):
    headerless = tmp_path / "from-cloudwatch.log"
    headerless.write_text("eni-1 10.0.0.5 203.0.113.9 443 REJECT\n")
    result = cli(
        "parse", str(headerless), "--format", "vpc_flow",
        "--fields", "interface-id srcaddr dstaddr dstport action",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["dstaddr"] == "203.0.113.9"


def test_usage_errors_exit_2(cli, tmp_path):
    sample = str(_sample("vpc_flow", "vpc_flow"))
    assert cli("parse", str(tmp_path / "missing.log")).returncode == 2
    assert cli("parse", sample, "--out", "parquet").returncode == 2  # needs -o
    unknown = cli("parse", sample, "--format", "nope")
    assert unknown.returncode == 2 and "unknown format 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_unrecognised_file_is_reported_not_fatal(cli, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = cli("parse", str(notes))
    assert result.returncode == 0
    assert "format not recognised" in result.stderr


def test_workers_start_from_a_fork_server_when_threads_run(tmp_path):
    """With another thread running (a progress bar's), forking is unsafe: the workers then start
    from a fork server, and every file is still parsed once."""
    import threading

    from awsir.parse.parallel import parse_to_folder

    done = threading.Event()
    waiter = threading.Thread(target=done.wait, daemon=True)
    waiter.start()
    try:
        files = [_sample("vpc_flow", "vpc_flow"), _sample("alb", "alb")]
        reports = list(parse_to_folder(files, tmp_path, "parquet", jobs=2))
    finally:
        done.set()
    assert sorted(r.table for r in reports) == ["alb", "vpc_flow"]
    for r in reports:
        [(rows,)] = duckdb.sql(f"SELECT count(*) FROM '{tmp_path}/{r.table}/*.parquet'").fetchall()
        assert rows == r.rows > 0


def test_a_custom_json_format_needs_its_table(cli, tmp_path):
    log = tmp_path / "access.log"
    log.write_text('{"rid": "1", "src": "192.0.2.1", "st": "200"}\n')
    fmt = json.dumps(
        {"rid": "$context.requestId", "src": "$context.identity.sourceIp", "st": "$context.status"}
    )
    result = cli("parse", str(log), "--fields", fmt)
    assert result.returncode == 2 and "needs --format" in result.stderr
    result = cli("parse", str(log), "--fields", fmt, "--format", "apigateway_access")
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (row["requestId"], row["src_ip"], row["status"]) == ("1", "192.0.2.1", 200)
    result = cli(
        "parse",
        str(log),
        "--fields",
        "a b",
        "--format",
        "apigateway_access",
        "-o",
        str(tmp_path / "o"),
    )
    assert result.returncode == 2 and "takes the format it was logged with" in result.stderr


def test_a_malformed_line_with_bytes_that_are_not_utf8_is_quarantined_quietly(cli, tmp_path):
    """Arrow's CSV reader cannot hand such a line to its invalid-row handler and printed an
    "Exception ignored" traceback; the block now goes to the exact path, which quarantines it."""
    sample = _sample("alb", "alb").read_bytes()
    bad = tmp_path / "damaged.log"
    bad.write_bytes(sample + b"h2 not an ALB line \xff\n")
    result = cli("parse", str(bad), "--format", "alb", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    [entry] = [json.loads(x) for x in (tmp_path / "out/quarantine/part-0.jsonl").open()]
    assert entry["raw"] == "h2 not an ALB line \\xff"
    rows = (tmp_path / "out/alb/part-0.jsonl").read_text().splitlines()
    assert len(rows) == sample.count(b"\n")
