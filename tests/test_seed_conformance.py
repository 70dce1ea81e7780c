"""The catalog carries the facts of the reference documents in ../shared/seeds.

The lists are extracted from the documents by pattern (log file paths, numbered field lists,
excluded addresses), not restated here, so the test follows the documents. Skipped when the
reference folder is not beside the clone.
"""

from __future__ import annotations

import json
import re

import pytest

from awsir.catalog import load_catalog

from .conftest import SHARED

SEEDS = SHARED / "seeds"
pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds not present")


def _seed(prefix: str) -> str:
    [path] = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def _section(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin : text.index(end, begin + len(start))]


def _card_text(source_id: str) -> str:
    return json.dumps(load_catalog().sources[source_id].to_dict()).lower().replace("\\\\", "\\")


def _numbered(section: str) -> list[str]:
    return [m.strip().strip('"') for m in re.findall(r"(?m)^\s*\d+\.\s+(.+?)\s*$", section)]


def _norm(text: str) -> str:
    return re.sub(r"[\s_-]+", "", text.lower())


def _missing(items: list[str], source_id: str) -> list[str]:
    """Items whose every word is not in the card (case, spaces, '-' and '_' ignored)."""
    text = _norm(_card_text(source_id))
    return [item for item in items if not all(_norm(w) in text for w in item.split())]


def test_ec2_agent_default_linux_and_windows_logs():
    section = _section(_seed("004"), "For Amazon Linux", "Where does it log to?")
    linux = re.findall(r"(?m)^(/var/log/\S+)", section)
    windows = re.findall(r"(?m)^([A-Z][A-Za-z0-9]+Log)\b", section)
    assert len(linux) > 10 and len(windows) > 8
    assert _missing(linux + windows, "ec2_cloudwatch_agent") == []


def test_elastic_beanstalk_log_paths():
    section = _section(_seed("002"), "Elastic Beanstalk\n", "OpsWorks")
    paths = re.findall(r"(/(?:var|opt)/[\w./-]+|C:\\[^\n]+?)\s*$", section, re.MULTILINE)
    paths = [p.rstrip("\\/") for p in paths]
    assert len(paths) >= 10
    assert _missing(paths, "elastic_beanstalk") == []


@pytest.mark.parametrize(
    ("source_id", "start", "end"),
    [
        ("s3_access", "S3 bucket access logs", "Delivery latency"),
        ("elb_classic", "Elastic Load Balancer(ELB) logs", "Delivery latency"),
    ],
)
def test_numbered_field_lists(source_id, start, end):
    fields = _numbered(_section(_seed("002"), start, end))
    assert len(fields) >= 10
    assert _missing(fields, source_id) == []


def test_flow_log_fields_and_exclusions():
    section = _section(_seed("002"), "VPC Flow logs", "S3 bucket access logs")
    fields = re.findall(r"(?m)^\s*•\s+([a-z-]+):\s", section)
    addresses = re.findall(r"169\.254\.\d+\.\d+", section)
    custom = re.findall(r"\$\{([a-z-]+)\}", _seed("003"))
    assert len(fields) >= 10 and len(addresses) >= 2 and len(custom) >= 15
    assert _missing(sorted(set(fields + addresses + custom)), "vpc_flow") == []
    limits = " ".join(load_catalog().sources["vpc_flow"].card.limits).lower()
    for excluded in ("dhcp", "amazon dns", "windows", "169.254.169.254", "169.254.169.123"):
        assert excluded in limits, excluded


def test_cloudfront_standard_fields():
    [fields_line] = re.findall(r"(?m)^#Fields: (.+)$", _seed("003"))
    assert _missing(fields_line.split(), "cloudfront_standard") == []


def test_route53_public_query_log_fields():
    section = _section(_seed("003"), "Route 53 Public DNS queries", "Flow Logs")
    [fmt] = re.findall(r"(?m)^CloudWatch-timestamp .+$", section)
    fields = [w.replace("-", " ") for w in fmt.split()[1:]]  # the CloudWatch prefix is optional
    assert len(fields) >= 9
    assert _missing(fields, "route53_public_query") == []
