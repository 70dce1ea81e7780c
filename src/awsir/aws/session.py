"""boto3 sessions: the standard credential chain, ``--profile`` and ``--region``, and adaptive
retries (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html). An
``AWS_ENDPOINT_URL`` in the environment (a local moto server in tests and the demo) is honoured
by boto3 itself. Credentials are never printed or stored."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

RETRIES = Config(retries={"max_attempts": 10, "mode": "adaptive"}, max_pool_connections=32)
"""Collection: a download must get through; throttling is waited out."""
SCAN_RETRIES = Config(retries={"mode": "adaptive"}, max_pool_connections=32)
"""The readiness scan: botocore's default attempts for adaptive mode (3; ``AWS_MAX_ATTEMPTS``
raises it), with client-side rate limiting. A call still failing is recorded with its error,
so a few hundred calls never wait minutes on one that cannot succeed."""


def session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    return boto3.Session(profile_name=profile, region_name=region)


def client(name: str, profile: str | None = None, region: str | None = None) -> Any:
    return session(profile, region).client(name, config=RETRIES)


def assume(
    base: boto3.Session, role_arn: str, external_id: str | None = None, region: str | None = None
) -> boto3.Session:
    """A session of ``role_arn``, assumed with ``base``'s credentials (sts:AssumeRole; the only
    call awsir makes that is not a read: it changes nothing in the account)."""
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": "awsir-scan"}
    if external_id:
        params["ExternalId"] = external_id
    creds = base.client("sts", config=RETRIES).assume_role(**params)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region or base.region_name,
    )


def organization_accounts(base: boto3.Session) -> list[dict[str, Any]]:
    """The ACTIVE accounts of the organization ``base`` is in (its management or delegated
    administrator account): organizations:ListAccounts."""
    pages = base.client("organizations", config=RETRIES).get_paginator("list_accounts")
    accounts = [a for page in pages.paginate() for a in page.get("Accounts", [])]
    return [a for a in accounts if a.get("Status", "ACTIVE") == "ACTIVE"]
