"""What readiness checks read and say: the inventory of an account, seen through
:class:`Account`, and a :class:`Result` per resource.

A check never calls AWS. It asks the inventory for the answers of the calls it ``NEEDS``
(:mod:`awsir.aws.calls`); an answer is either AWS's data or the error AWS returned, and a check
that cannot see what it needs says ``unknown`` with that error, never ``pass``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from awsir.aws.calls import BY_NAME

GLOBAL = "global"


class Status(StrEnum):
    passed = "pass"
    failed = "fail"
    unknown = "unknown"
    not_applicable = "not_applicable"


@dataclass(frozen=True)
class Answer:
    """One call's answer: ``data`` (AWS's response, pages merged) or ``error``."""

    data: dict[str, Any] | None
    error: dict[str, str] | None

    @property
    def ok(self) -> bool:
        return self.data is not None

    @property
    def reason(self) -> str:
        if self.error is None:
            return ""
        return f"{self.error.get('code', 'error')}: {self.error.get('message', '')}".strip(": ")

    def get(self, key: str, default: Any = None) -> Any:
        return (self.data or {}).get(key, default)


def _answer(raw: dict[str, Any] | None, name: str) -> Answer:
    if raw is None:
        return Answer(None, {"code": "NotCollected", "message": f"{name} is not in the inventory"})
    if "error" in raw:
        return Answer(None, raw["error"])
    return Answer(raw.get("ok") or {}, None)


@dataclass
class Account:
    """The inventory of one account (as :func:`awsir.aws.inventory.collect` returns it)."""

    raw: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.raw.get("account") or "unknown")

    @property
    def regions(self) -> list[str]:
        return list(self.raw.get("regions") or [])

    @property
    def access(self) -> dict[str, Any] | None:
        """The evidence access simulation (``awsir scan --responder-role``), if one was run."""
        found = self.raw.get("access")
        return found if isinstance(found, dict) else None

    def answer(self, region: str, name: str) -> Answer:
        """The answer of a call made once in ``region`` (or :data:`GLOBAL`)."""
        return _answer(self.raw.get("calls", {}).get(region, {}).get(name), name)

    def each(self, region: str, name: str) -> dict[str, Answer]:
        """The answers of a fan-out call, by item (trail ARN, bucket name...)."""
        found = self.raw.get("calls", {}).get(region, {}).get(name) or {}
        return {key: _answer(raw, name) for key, raw in found.items()}

    def per_item(self, region: str, name: str) -> tuple[Answer, list[tuple[str, Any, Answer]]]:
        """A fan-out call's listing, and ``(key, item, answer)`` for each item it lists. Items
        and keys come from the call's own declaration (:mod:`awsir.aws.calls`); an item the
        fan-out has no answer for gets an error answer saying so, so a check that meets it
        says ``unknown`` with a reason."""
        each = BY_NAME[name].each
        if each is None or each.nested:
            raise ValueError(f"{name} is not a fan-out over one listing: read it with each()")
        listing = self.answer(region, each.parent)
        answers = self.each(region, name)
        found = []
        for item in each.items(listing.data or {}) if listing.ok else []:
            key = each.key(item)
            missing = Answer(
                None, {"code": "NotCollected", "message": f"{name} of {key} not asked"}
            )
            found.append((key, item, answers.get(key, missing)))
        return listing, found


@dataclass
class Options:
    """Thresholds a user may set (``awsir scan --retention-days``...)."""

    retention_days: int = 365
    delivery_hours: int = 24  # a trail that has not delivered for this long is not healthy


@dataclass
class Result:
    """A check's verdict on one resource of one Region."""

    status: Status
    resource: str
    region: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # the log source, when the check's SOURCE is not it


def passed(resource: str, region: str, reason: str, **details: Any) -> Result:
    return Result(Status.passed, resource, region, reason, details)


def failed(resource: str, region: str, reason: str, **details: Any) -> Result:
    return Result(Status.failed, resource, region, reason, details)


def unknown(resource: str, region: str, answer: Answer) -> Result:
    """A verdict the inventory cannot support: the call that failed, and why."""
    return Result(Status.unknown, resource, region, f"cannot tell: {answer.reason}")


def not_applicable(resource: str, region: str, reason: str) -> Result:
    return Result(Status.not_applicable, resource, region, reason)
