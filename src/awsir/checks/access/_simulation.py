"""What the evidence access checks share: the decisions of the responder's policy simulation."""

from __future__ import annotations

from typing import Any

from awsir.readiness.access import Need
from awsir.readiness.model import Answer

NO_ROLE = "no responder role given: run awsir scan --responder-role ARN"


def verdicts(access: dict[str, Any], wanted: list[Need]) -> tuple[list[str], Answer | None]:
    """The permissions of ``wanted`` that are not allowed, and the simulation error that
    keeps a verdict from being given (None when every permission got a decision)."""
    decisions = access.get("decisions") or {}
    errors = access.get("errors") or {}
    missing = []
    for need in wanted:
        key = f"{need.action} {need.resource}"
        if key in errors:
            return [], Answer(None, errors[key])
        if key not in decisions:
            return [], Answer(None, {"code": "NotSimulated", "message": f"{key} was not simulated"})
        if decisions[key] != "allowed" and not _granted(access, need):
            missing.append(f"{need.action} on {need.resource} ({decisions[key]})")
    return missing, None


def _granted(access: dict[str, Any], need: Need) -> bool:
    """A KMS grant to the principal for this operation (grants are outside IAM policies, so
    the simulation cannot see them). An explicit deny still wins: only implicit denies are
    lifted."""
    if (
        not need.action.startswith("kms:")
        or access.get("decisions", {}).get(f"{need.action} {need.resource}") == "explicitDeny"
    ):
        return False
    grants = (access.get("grants") or {}).get(need.resource)
    operation = need.action.split(":", 1)[1]
    principal = access.get("principal")
    return isinstance(grants, list) and any(
        g.get("GranteePrincipal") == principal and operation in (g.get("Operations") or [])
        for g in grants
    )
