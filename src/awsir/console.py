"""What every command shares: the two consoles it prints to (results on stdout, everything else
on stderr), and the read-only connection to a case with its errors as one line each."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import typer
from rich.console import Console
from rich.text import Text

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def case_connection(case: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The case's catalog, read-only; no case (exit 2) or a damaged lake (exit 1) is one line."""
    from awsir.store.case import Case, CaseError
    from awsir.store.catalog import open_case

    try:
        con = open_case(Case(case))
    except CaseError as exc:
        err.print(Text(f"error: {exc}"))
        raise typer.Exit(2) from None
    try:
        yield con
    except duckdb.Error as exc:  # a damaged lake file, a view over a file gone: one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        err.print(Text(f"error: reading the case {case}: {first}"))
        raise typer.Exit(1) from None
    finally:
        con.close()
