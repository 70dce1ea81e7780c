"""boto3 sessions: the standard credential chain, ``--profile`` and ``--region``, and adaptive
retries (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html). An
``AWS_ENDPOINT_URL`` in the environment (a local moto server in tests and the demo) is honoured
by boto3 itself. Credentials are never printed or stored."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    RefreshableCredentials,
    create_assume_role_refresher,
)

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


class _AssumedRole(CredentialProvider):  # type: ignore[misc]
    """Credentials of an assumed role that renew themselves (botocore refreshes them before
    they expire), so a collection or scan that runs past STS's one-hour default goes on."""

    METHOD = "assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self.credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self.credentials


def assume(
    base: boto3.Session, role_arn: str, external_id: str | None = None, region: str | None = None
) -> boto3.Session:
    """A session of ``role_arn``, assumed with ``base``'s credentials (sts:AssumeRole; the only
    call awsir makes that is not a read: it changes nothing in the account). The role is
    assumed now (an error is raised here), and again whenever its credentials near expiry.
    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"""
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": "awsir"}
    if external_id:
        params["ExternalId"] = external_id
    refresh = create_assume_role_refresher(base.client("sts", config=RETRIES), params)
    credentials = RefreshableCredentials.create_from_metadata(
        metadata=refresh(), refresh_using=refresh, method=_AssumedRole.METHOD
    )
    core = botocore.session.get_session()
    core.register_component("credential_provider", CredentialResolver([_AssumedRole(credentials)]))
    return boto3.Session(botocore_session=core, region_name=region or base.region_name)


def organization_accounts(base: boto3.Session) -> list[dict[str, Any]]:
    """The ACTIVE accounts of the organization ``base`` is in (its management or delegated
    administrator account): organizations:ListAccounts."""
    pages = base.client("organizations", config=RETRIES).get_paginator("list_accounts")
    accounts = [a for page in pages.paginate() for a in page.get("Accounts", [])]
    return [a for a in accounts if a.get("Status", "ACTIVE") == "ACTIVE"]
