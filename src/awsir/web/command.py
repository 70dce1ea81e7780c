"""The ``awsir serve`` command."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from awsir.console import err
from awsir.readiness.history import DEFAULT_HISTORY
from awsir.store.case import DEFAULT_CASE

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve_command(
    case: Annotated[Path, typer.Option("--case", help="Case folder.")] = DEFAULT_CASE,
    history: Annotated[
        Path, typer.Option("--history", help="Folder of recorded scans (awsir scan --history).")
    ] = DEFAULT_HISTORY,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. Anything but 127.0.0.1 also requires a token, printed "
            "in the URL.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0: any free one).")] = 8765,
) -> None:
    """The dashboard in the browser: readiness (score, heat map, questions, fixes, trend),
    the sources, search, timeline and detections of a case, and what was collected. Everything
    is served from this machine (no CDN); every value from a log is escaped."""
    import uvicorn

    from awsir.web.app import create_app

    token = None if host in LOOPBACK else secrets.token_urlsafe(24)
    app = create_app(case if case.is_dir() else None, history, token)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)

    original = server.startup

    async def announce(sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await original(sockets)
        bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{bound}/readiness" + (f"?token={token}" if token else "")
        err.print(Text(f"awsir dashboard: {url}  (Ctrl-C stops it)"))
        if token:
            err.print(
                Text(
                    "listening beyond this machine: requests without the token are refused",
                    style="yellow",
                )
            )

    server.startup = announce  # type: ignore[method-assign]
    server.run()
