"""Shared helpers: run the real ``awsir`` CLI as a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def run_awsir(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m awsir ARGS`` in a fresh interpreter, wide terminal, no colour codes."""
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "awsir", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def cli():
    """The real CLI in a subprocess: ``cli("sources", "--json")``."""
    return run_awsir


@pytest.fixture(scope="session")
def catalog_json() -> list[dict]:
    """Every built-in card exactly as ``awsir sources --json`` prints it."""
    result = run_awsir("sources", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@contextmanager
def local_moto() -> Iterator[dict[str, str]]:
    """A real moto server on 127.0.0.1, random port (AWS over HTTP, as boto3 talks to it), and
    the environment a subprocess needs to use it: endpoint and throwaway credentials."""
    import logging
    import socket
    import urllib.request

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # moto keeps its state per process, shared by every server: start from an empty one
    reset = urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=30).close()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    try:
        yield env
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_server():
    """A moto server shared by the tests that only need S3 objects."""
    with local_moto() as env:
        yield env


@contextmanager
def emulated_account() -> Iterator[tuple[dict[str, str], object]]:
    """The emulated account (``awsir.emulated``) built in its own moto server, with this
    process's environment pointed at it (boto3 in the test) until the block ends; yields the
    environment a subprocess needs and what was built."""
    import boto3

    from awsir import emulated

    with local_moto() as env:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield env, emulated.build(boto3.Session(region_name="us-east-1"))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
