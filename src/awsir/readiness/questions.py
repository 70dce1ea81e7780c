"""The incident-question matrix: for each question a responder asks first, can this account
answer it, partly, or not, and which resources leave it blind.

A question is answered by the verdicts of the checks that decide it. All of them passing: the
question can be answered; some: partly (the resources that fail are where it cannot);
none: not. A question none of whose checks applied (no load balancer, no EKS cluster) has
nothing to ask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awsir.findings import Finding


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    checks: tuple[str, ...]
    region: str | None = None  # only verdicts of this Region (and global ones) decide
    any_of: bool = False  # a resource is seen when any of the checks passes for it


QUESTIONS = (
    Question("iam_changes", "Who changed IAM (users, roles, policies, access keys)?",
             ("trail_covers_every_region", "trail_delivery_health", "trail_global_service_events"),
             "us-east-1"),
    Question("api_activity", "Who did what, from where, in each Region (API calls)?",
             ("trail_covers_every_region", "trail_delivery_health")),
    Question("bucket_access", "Who read or deleted objects in each bucket?",
             ("s3_access_logging", "trail_s3_data_events"), any_of=True),
    Question("network", "What did the instances of each VPC talk to?",
             ("vpc_flow_logs", "transit_gateway_flow_logs")),
    Question("dns", "Which domains did each VPC resolve?", ("resolver_query_logging",)),
    Question("web", "Who accessed each web application or API, with which requests?",
             ("load_balancer_access_logs", "waf_logging", "cloudfront_logging",
              "api_gateway_logging", "lattice_access_logs")),
    Question("hosts", "What happened on each instance (commands, processes, OS logs)?",
             ("ec2_ssm_managed", "ec2_cloudwatch_agent")),
    Question("applications", "What did each container and application write?",
             ("ecs_task_logging", "beanstalk_log_streaming", "lambda_can_write_logs")),
    Question("databases", "Who logged in to each database, and what did they run?",
             ("rds_log_exports", "redshift_audit_logging")),
    Question("kubernetes", "Who did what in each Kubernetes cluster?", ("eks_control_plane_logs",)),
    Question("config_history", "What did a resource look like before it was changed?",
             ("config_recording",)),
    Question("detections", "What did the threat detectors see, in every Region?",
             ("guardduty_enabled", "securityhub_enabled")),
    Question("last_year", "Can we still see last year's events?",
             ("trail_bucket_protection", "log_group_retention", "guardduty_findings_exported")),
    Question("integrity", "Can we prove the logs were not altered?",
             ("trail_log_file_validation", "trail_bucket_protection")),
    Question("responder_access", "Can the responders open and decrypt the evidence?",
             ("responder_can_read_evidence",)),
    Question("acquisition", "Can the responders image a compromised instance's disks?",
             ("responder_can_acquire_evidence",)),
)  # fmt: skip
"""The questions, in the order a responder asks them (DESIGN.md, issue 5)."""


@dataclass
class Answer:
    question: Question
    status: str  # answerable, partly, not, unknown, nothing_to_ask
    blind: list[Finding]  # the verdicts that fail or are unknown

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question.id, "text": self.question.text, "status": self.status,
            "blind": [{"check": f.id, "status": f.status, "account": f.account,
                       "region": f.region, "resource": f.subject, "reason": f.reason}
                      for f in self.blind],
        }  # fmt: skip


def answer(findings: list[Finding]) -> list[Answer]:
    answers = []
    for question in QUESTIONS:
        regions = None if question.region is None else (question.region, "global")
        mine = [f for f in findings if f.id in question.checks
                and f.status in ("pass", "fail", "unknown")
                and (regions is None or f.region in regions)]  # fmt: skip
        passing = [f for f in mine if f.status == "pass"]
        blind = [f for f in mine if f.status != "pass"]
        if question.any_of:  # seen through another check: not blind
            seen = {(f.account, f.subject) for f in passing}
            blind = [f for f in blind if (f.account, f.subject) not in seen]
        if not mine:
            status = "nothing_to_ask"
        elif not blind:
            status = "answerable"
        elif passing:
            status = "partly"
        elif any(f.status == "fail" for f in blind):
            status = "not"
        else:
            status = "unknown"
        answers.append(Answer(question, status, blind))
    return answers
