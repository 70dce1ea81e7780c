"""boto3 sessions: the standard credential chain, ``--profile`` and ``--region``, and adaptive
retries (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html). An
``AWS_ENDPOINT_URL`` in the environment (a local moto server in tests and the demo) is honoured
by boto3 itself. Credentials are never printed or stored."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

RETRIES = Config(retries={"max_attempts": 10, "mode": "adaptive"}, max_pool_connections=32)


def session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    return boto3.Session(profile_name=profile, region_name=region)


def client(name: str, profile: str | None = None, region: str | None = None) -> Any:
    return session(profile, region).client(name, config=RETRIES)
