"""The ``awsir demo`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from awsir.console import err


def demo_command(
    case: Annotated[Path, typer.Option("--case", help="New folder for the demo's case.")] = Path(
        "awsir-demo-case"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the story's noise.")] = 7,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then open the dashboard on the result.")
    ] = False,
) -> None:
    """The whole of awsir in about a minute, with no AWS account: a local moto server (127.0.0.1)
    holds an emulated two-Region account with logging gaps, and the logs of a scripted intrusion
    (leaked key, reconnaissance, persistence, data theft, defense evasion). awsir then scans it,
    collects the incident window, ingests, hunts, runs the Sigma rules and prints what happened
    and which questions the gaps leave unanswered. The commands are those used on real AWS."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        err.print(Text("error: the demo needs moto's server: pip install 'awsir[demo]'"))
        raise typer.Exit(2) from None
    from awsir.demo.run import DemoError, run
    from awsir.demo.summary import render, summarize

    try:
        done = run(case, seed, say=lambda m: err.print(Text(m)))
    except DemoError as exc:
        err.print(Text(f"error: {exc}"))
        raise typer.Exit(1) from None
    found = summarize(case, done["report"])
    text = render(found, case, done["seconds"], done["window"])
    (case / "summary.txt").write_text(text + "\n", encoding="utf-8")
    err.print(Text(f"[5/5] the incident summary, from the case (also in {case / 'summary.txt'}):"))
    sys.stdout.write(text + "\n")
    if serve:
        from awsir.web.command import serve_command

        serve_command(case=case, history=case / "history", host="127.0.0.1", port=8765)
