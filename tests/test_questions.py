"""The incident-question matrix, from verdicts alone."""

from __future__ import annotations

from awsir.findings import Finding, Severity
from awsir.readiness.engine import load_checks
from awsir.readiness.questions import QUESTIONS, answer


def verdict(check: str, status: str, resource: str, region: str = "us-east-1") -> Finding:
    return Finding(kind="check", id=check, title=check, severity=Severity.high, why="",
                   subject=resource, status=status, region=region, account="1")  # fmt: skip


def by_id(findings: list[Finding]) -> dict[str, object]:
    return {a.question.id: a for a in answer(findings)}


def test_each_question_is_answerable_partly_not_or_has_nothing_to_ask():
    found = by_id([
        verdict("s3_access_logging", "pass", "a", "global"),
        verdict("s3_access_logging", "fail", "b", "global"),
        verdict("vpc_flow_logs", "fail", "vpc-1"),
        verdict("vpc_flow_logs", "unknown", "vpc-2"),
        verdict("resolver_query_logging", "pass", "vpc-1"),
        verdict("eks_control_plane_logs", "unknown", "prod"),
        verdict("responder_can_read_evidence", "not_applicable", "1", "global"),
    ])  # fmt: skip
    assert found["bucket_access"].status == "partly"
    assert [f.subject for f in found["bucket_access"].blind] == ["b"]
    assert found["network"].status == "not" and len(found["network"].blind) == 2
    assert found["dns"].status == "answerable" and found["dns"].blind == []
    assert found["kubernetes"].status == "unknown"
    assert found["web"].status == "nothing_to_ask"
    assert found["responder_access"].status == "nothing_to_ask"  # no role given


def test_iam_changes_are_decided_by_the_region_iam_events_land_in():
    found = by_id([verdict("trail_covers_every_region", "pass", "t", "us-east-1"),
                   verdict("trail_covers_every_region", "fail", "t", "eu-west-1")])  # fmt: skip
    assert found["iam_changes"].status == "answerable"
    assert found["api_activity"].status == "partly"


def test_questions_name_real_checks():
    known = {c.id for c in load_checks()}
    assert all(set(q.checks) <= known for q in QUESTIONS)


def test_a_bucket_seen_through_data_events_is_not_blind():
    found = by_id([verdict("s3_access_logging", "fail", "payroll", "global"),
                   verdict("trail_s3_data_events", "pass", "payroll", "global"),
                   verdict("s3_access_logging", "fail", "photos", "global"),
                   verdict("trail_s3_data_events", "fail", "photos", "global")])  # fmt: skip
    assert found["bucket_access"].status == "partly"
    assert {f.subject for f in found["bucket_access"].blind} == {"photos"}
