"""Ask IAM whether a principal may perform actions on resources (iam:SimulatePrincipalPolicy, a
read-only call), with the bucket or key policy of the resource when the account can read it, so
the answer is the one AWS would give for a request made now (identity and resource policies,
permission boundaries; SCPs of the organization are applied by IAM too).
https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from awsir.aws.inventory import ask
from awsir.aws.session import SCAN_RETRIES

BATCH = 50  # actions per simulation (the API caps the request size)


def resource_policy(session: boto3.Session, owner: str, home: str) -> dict[str, Any]:
    """The policy of a bucket (``s3:name``) or KMS key (``kms:arn``), or its error."""
    kind, _, name = owner.partition(":")
    if kind == "s3":
        found = ask(session.client("s3", config=SCAN_RETRIES), "GetBucketPolicy", {"Bucket": name})
        if "ok" in found:
            return {"ok": found["ok"].get("Policy")}
        return found
    region = name.split(":")[3] if name.startswith("arn:") else home
    client = session.client("kms", region_name=region, config=SCAN_RETRIES)
    found = ask(client, "GetKeyPolicy", {"KeyId": name, "PolicyName": "default"})
    return {"ok": found["ok"].get("Policy")} if "ok" in found else found


def simulate(
    session: boto3.Session,
    principal: str,
    requests: Iterable[tuple[str, str, str | None]],
    account: str,
    home: str = "us-east-1",
    workers: int = 8,
) -> dict[str, Any]:
    """Decisions for (action, resource, owner of the resource policy) triples.

    Returns ``{"principal", "decisions": {"action resource": decision}, "errors": {...},
    "policies": {owner: error}, "grants": {key arn: [grant...] or error}}``; a decision is
    ``allowed``, ``explicitDeny`` or ``implicitDeny``; a request the simulation could not answer
    is under ``errors``. The simulation does not see KMS grants, so each key's grants are listed
    (kms:ListGrants) as second evidence."""
    iam = session.client("iam", config=SCAN_RETRIES)
    groups: dict[str | None, list[tuple[str, str]]] = {}
    for action, resource, owner in requests:
        groups.setdefault(owner, [])
        if (action, resource) not in groups[owner]:
            groups[owner].append((action, resource))
    policies: dict[str, dict[str, Any]] = {}
    for owner in (o for o in groups if o):
        policies[owner] = resource_policy(session, owner, home)

    def run(owner: str | None, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "PolicySourceArn": principal,
            "ActionNames": sorted({a for a, _ in pairs}),
            "ResourceArns": sorted({r for _, r in pairs}),
        }
        policy = policies.get(owner or "", {}).get("ok")
        if policy:
            params["ResourcePolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
            params["ResourceOwner"] = f"arn:aws:iam::{account}:root"
        return ask(iam, "SimulatePrincipalPolicy", params)

    jobs = [(owner, pairs[k : k + BATCH]) for owner, pairs in groups.items()
            for k in range(0, len(pairs), BATCH)]  # fmt: skip
    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = list(pool.map(lambda job: (job[1], run(*job)), jobs))
    decisions: dict[str, str] = {}
    errors: dict[str, dict[str, str]] = {}
    for pairs, answer in answers:
        wanted = {f"{a} {r}" for a, r in pairs}
        if "error" in answer:
            errors.update(dict.fromkeys(wanted, answer["error"]))
            continue
        for result in answer["ok"].get("EvaluationResults", []):
            action = result.get("EvalActionName")
            per_resource = result.get("ResourceSpecificResults") or [
                {"EvalResourceName": result.get("EvalResourceName"),
                 "EvalResourceDecision": result.get("EvalDecision")}
            ]  # fmt: skip
            for one in per_resource:
                key = f"{action} {one.get('EvalResourceName')}"
                if key in wanted:
                    decisions[key] = one.get("EvalResourceDecision", "implicitDeny")
    grants: dict[str, Any] = {}  # KMS grants: a second way to be allowed to decrypt
    for owner in (o for o in groups if o and o.startswith("kms:")):
        key = owner[4:]
        region = key.split(":")[3] if key.startswith("arn:") else home
        client = session.client("kms", region_name=region, config=SCAN_RETRIES)
        found = ask(client, "ListGrants", {"KeyId": key})
        grants[key] = found.get("ok", {}).get("Grants", []) if "ok" in found else found
    problems = {o: p["error"] for o, p in policies.items()
                if "error" in p and p["error"].get("code") != "NoSuchBucketPolicy"}  # fmt: skip
    return {"principal": principal, "decisions": decisions, "errors": errors,
            "policies": problems, "grants": grants}  # fmt: skip
