"""Take the readiness inventory of one account: every call of :data:`awsir.aws.calls.CALLS` in
every Region asked for, in parallel, read-only, each answer or error kept as AWS returned it.

The snapshot is plain JSON (times as ISO 8601 text), so checks see the same data whether it was
just collected or read back from a file (``awsir scan --from-snapshot``). A call that fails is
recorded with AWS's error code and message (AccessDenied, a Region not opted in, an operation the
endpoint does not support, throttling past the retries); checks that need it report ``unknown``
with that reason. One failure never stops the scan.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import boto3
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from awsir.aws.calls import CALLS, Call
from awsir.aws.session import SCAN_RETRIES

GLOBAL = "global"
WORKERS = 16
MAX_PAGES = 1000  # a token that never ends is a bug of the endpoint, not a reason to hang


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON: {type(value).__name__}")


class SignInError(RuntimeError):
    """The account cannot be inventoried at all: no credentials, or credentials AWS refuses."""


class _Clients:
    """One boto3 client per service and Region; creating clients is not thread-safe."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.lock = threading.Lock()
        self.made: dict[tuple[str, str], Any] = {}

    def get(self, service: str, region: str) -> Any:
        with self.lock:
            if (service, region) not in self.made:
                self.made[service, region] = self.session.client(
                    service, region_name=region, config=SCAN_RETRIES
                )
            return self.made[service, region]


def ask(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """One call, all pages: ``{"ok": answer}`` or ``{"error": {"code", "message"}}``."""
    method = xform_name(operation)
    try:
        if client.can_paginate(method):
            answer = client.get_paginator(method).paginate(**params).build_full_result()
        else:
            answer = _all_pages(client, operation, method, params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.get("Code") or f"HTTP {status}"
        if code.isdigit():  # an error page, not an AWS error
            code = f"HTTP {code}"
        return {"error": {"code": code, "message": _message(error.get("Message") or "", status)}}
    except BotoCoreError as exc:  # no endpoint in this Region, connection lost, bad parameter
        return {"error": {"code": type(exc).__name__, "message": _message(str(exc), None)}}
    except ResponseParserError as exc:  # an error page where AWS XML was expected
        found = re.search(r"\b([45]\d\d) [A-Z]", str(exc))
        status = int(found.group(1)) if found else None
        code = f"HTTP {status}" if status else "UnreadableResponse"
        return {"error": {"code": code, "message": _message("<", status)}}
    answer.pop("ResponseMetadata", None)
    return {"ok": json.loads(json.dumps(answer, default=_plain))}


def _all_pages(client: Any, operation: str, method: str, params: dict[str, Any]) -> Any:
    """Every page of an operation boto3 has no paginator for (wafv2 ListWebACLs, GuardDuty
    ListPublishingDestinations...): follow the token its input and output share, and join the
    lists of the pages."""
    model = client.meta.service_model.operation_model(operation)
    inputs = set(model.input_shape.members) if model.input_shape else set()
    outputs = set(model.output_shape.members) if model.output_shape else set()
    tokens = [k for k in inputs & outputs if "token" in k.lower() or "marker" in k.lower()]
    answer = getattr(client, method)(**params)
    for _ in range(MAX_PAGES):
        token = next((answer.get(k) for k in tokens if answer.get(k)), None)
        if token is None:
            break
        page = getattr(client, method)(**params, **{k: token for k in tokens})
        for key, value in page.items():
            if isinstance(value, list) and isinstance(answer.get(key), list):
                answer[key] = answer[key] + value
            elif key in tokens or key not in answer:
                answer[key] = value
        if not any(page.get(k) for k in tokens):
            answer = {k: v for k, v in answer.items() if k not in tokens}
            break
    return answer


def describe_error(exc: Exception) -> str:
    """One line for a failed call: AWS's code and message, an error page as its status."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.get("Code") or f"HTTP {status}"
        code = f"HTTP {code}" if code.isdigit() else code
        return f"{code}: {_message(error.get('Message') or '', status)}"
    return f"{type(exc).__name__}: {_message(str(exc), None)}"


def _message(text: str, status: int | None) -> str:
    """AWS's error message on one line; an HTML error page (an endpoint that does not know the
    call) becomes its HTTP status."""
    text = text.strip()
    if not text or text.startswith("<"):
        return f"the endpoint answered HTTP {status or '?'} (the call may not be supported there)"
    return " ".join(text.split())[:500]


def enabled_regions(session: boto3.Session, home: str) -> list[str] | dict[str, Any]:
    """The account's enabled Regions (opted-in ones included), or the error."""
    found = ask(session.client("ec2", region_name=home, config=SCAN_RETRIES), "DescribeRegions", {})
    if "error" in found:
        return found
    return sorted(r["RegionName"] for r in found["ok"].get("Regions", []))


def collect(
    session: boto3.Session,
    regions: list[str] | None = None,
    *,
    home: str = "us-east-1",
    calls: list[Call] | None = None,
    workers: int = WORKERS,
    on_call: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """The inventory of the account ``session`` signs in to (see the module docstring).

    ``home`` is where global calls go (IAM, S3 listing, Route 53). ``on_call(region, name)`` is
    told of each call made (a progress bar)."""
    if session.get_credentials() is None:
        raise SignInError("no AWS credentials found (--profile, or the standard AWS_* variables)")
    clients = _Clients(session)
    identity = ask(clients.get("sts", home), "GetCallerIdentity", {})
    if "error" in identity:  # bad or expired credentials: every other call would fail the same
        error = identity["error"]
        raise SignInError(f"the credentials are refused: {error['code']}: {error['message']}")
    found_regions = regions or enabled_regions(session, home)
    inventory: dict[str, Any] = {
        "account": identity.get("ok", {}).get("Account"),
        "taken": datetime.now(UTC).isoformat(timespec="seconds"),
        "regions": found_regions if isinstance(found_regions, list) else [home],
        "calls": {GLOBAL: {"sts.GetCallerIdentity": identity}},
    }
    if isinstance(found_regions, dict):  # DescribeRegions failed: the home Region only, said
        inventory["regions_error"] = found_regions["error"]
    answers: dict[str, dict[str, Any]] = inventory["calls"]
    for region in inventory["regions"]:
        answers.setdefault(region, {})
    todo = [
        c for c in (calls or CALLS) if c.name != "sts.GetCallerIdentity" and c.scope != "derived"
    ]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while todo:  # in waves: a fan-out waits for the call whose items it fans out over
            ready = [
                c for c in todo if c.each is None or c.each.parent not in {t.name for t in todo}
            ]
            todo = [c for c in todo if c not in ready]
            tasks = []
            for call in ready:
                for region in [GLOBAL] if call.scope == GLOBAL else inventory["regions"]:
                    tasks.extend(_tasks(call, region, home, answers))
            for region, call, _key, _params in tasks:  # clients made here, on one thread
                clients.get(call.service, home if region == GLOBAL else region)

            def run(task: tuple[str, Call, str | None, dict[str, Any]]) -> None:
                region, call, key, params = task
                client = clients.get(call.service, home if region == GLOBAL else region)
                result = ask(client, call.operation, params)
                if on_call is not None:
                    on_call(region, call.name)
                if key is None:
                    answers[region][call.name] = result
                else:
                    answers[region].setdefault(call.name, {})[key] = result

            list(pool.map(run, tasks))
    return inventory


def _tasks(
    call: Call, region: str, home: str, answers: dict[str, dict[str, Any]]
) -> list[tuple[str, Call, str | None, dict[str, Any]]]:
    if call.each is None:
        return [(region, call, None, dict(call.params))]
    parent = answers[region].get(call.each.parent, {})
    if call.each.nested:  # the parent's answers are keyed by its own items
        items = [(key, item) for key, answer in parent.items() if "ok" in answer
                 for item in call.each.items(answer["ok"])]  # fmt: skip
    elif "ok" in parent:
        items = call.each.items(parent["ok"])
    else:
        return []  # the parent failed: checks report its error
    answers[region].setdefault(call.name, {})
    where = home if region == GLOBAL else region
    return [
        (region, call, call.each.key(item), {**call.params, **call.each.params(item)})
        for item in items
        if call.each.only(item, where)
    ]
