"""Golden outputs of the format samples: ``python -m awsir.parse.golden`` rewrites them.

Each sample ``sources/<id>/samples/<table>/<name>`` has ``<name>.expected.jsonl`` beside it: the
rows awsir makes of it, as ``awsir parse`` prints them. The test suite parses every sample and
compares, so a change in parsing shows up as a reviewed diff of these files.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from awsir.catalog import Catalog, load_catalog
from awsir.parse.batch import FileReport
from awsir.parse.engine import parse_files
from awsir.parse.output import StdoutSink

SUFFIX = ".expected.jsonl"


def samples(catalog: Catalog) -> Iterator[tuple[str, Path]]:
    """(table, sample path) for every sample of every built-in table."""
    for source in catalog:
        if source.parse is None or source.unit.provider != "awsir":
            continue
        for table in source.parse.tables:
            folder = source.unit.path.parent / "samples" / table
            for path in sorted(folder.glob("*")):
                if path.is_file() and not path.name.endswith(SUFFIX):
                    yield table, path


def render(catalog: Catalog, table: str, path: Path) -> tuple[str, FileReport]:
    """The JSON lines awsir makes of one sample, parsed as ``table``."""
    buffer = io.StringIO()
    sink = StdoutSink(buffer)
    [report] = list(parse_files([path], catalog, sink, format=table))
    sink.close()
    # raw_ref names the file as given; keep golden files free of where the repo lives.
    text = buffer.getvalue().replace(json.dumps(str(path))[1:-1], path.name)
    return text, report


def main() -> int:
    catalog = load_catalog()
    for table, path in samples(catalog):
        text, report = render(catalog, table, path)
        if report.quarantined or report.problem:
            print(f"{path}: {report.quarantined} quarantined, {report.problem}", file=sys.stderr)
            return 1
        path.with_name(path.name + SUFFIX).write_text(text, encoding="utf-8")
    print("golden outputs written; review them with git diff")
    return 0


if __name__ == "__main__":
    sys.exit(main())
