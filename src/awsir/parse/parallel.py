"""Parse many files on every core: one worker process per core, each with its own part files.

Why processes: DuckDB and Arrow release the GIL, but the glue between them (block checks,
reports, sinks) does not, and one process measured at one core's worth of CPU on every format.
Each worker runs the whole pipeline (:class:`~awsir.parse.engine.Parser`) on the files it takes
from a shared queue, largest first so the last files to finish are small, and writes its own
``<table>/part-<k>`` files (:class:`~awsir.parse.output.FolderSink`), so workers share nothing
but the queue. Reports come back per file once its rows are written (a worker converts the rows
of several small files together).

Workers are forked when the calling process runs a single thread (cheap, and safe: nothing is
held by another thread); otherwise they start from a fork server.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from awsir.catalog import load_catalog
from awsir.parse.batch import FileReport
from awsir.parse.engine import Parser, check_fields, parse_files, resolve_format
from awsir.parse.output import FolderSink

POLL_SECONDS = 0.5


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def parse_to_folder(
    files: list[Path],
    folder: Path,
    out: str,
    *,
    format: str | None = None,
    fields: list[str] | None = None,
    jobs: int = 0,
) -> Iterator[FileReport]:
    """Reports of every file (in the order they finish) while ``jobs`` workers write ``folder``.

    ``jobs`` 0 means one per core. One job, or one file, runs in this process.
    """
    catalog = load_catalog()
    if format:  # an unknown --format, or --fields that do not fit it: usage errors, raised here
        check_fields(resolve_format(catalog, format)[1], fields)
    workers = min(jobs or default_jobs(), len(files))
    if workers <= 1:
        sink = FolderSink(folder, out, part=0)
        try:
            yield from parse_files(files, catalog, sink, format=format, fields=fields)
        finally:
            sink.close()
        return
    method = (
        "fork"
        if threading.active_count() == 1 and "fork" in mp.get_all_start_methods()
        else "forkserver"
    )
    ctx: Any = mp.get_context(method)
    tasks: Any = ctx.Queue()
    results: Any = ctx.Queue()
    for path in sorted(files, key=_size, reverse=True):
        tasks.put(path)
    for _ in range(workers):
        tasks.put(None)
    # Forked workers share the loaded catalog (0.4 s of CPU each to load it again).
    options = (folder, out, format, fields, catalog if method == "fork" else None)
    procs = [ctx.Process(target=_work, args=(k, options, tasks, results)) for k in range(workers)]
    for proc in procs:
        proc.start()
    try:
        finished = 0
        while finished < workers:
            try:
                reports = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(
                        f"a parse worker stopped (exit code {dead[0].exitcode}); "
                        "its part files may be incomplete"
                    ) from None
                continue
            if reports is None:
                finished += 1
            else:
                yield from reports
        for proc in procs:
            proc.join()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _work(part: int, options: tuple[Any, ...], tasks: Any, results: Any) -> None:
    folder, out, format, fields, catalog = options
    pa.set_cpu_count(1)  # the workers share the cores: one thread each, not one pool each
    catalog = catalog or load_catalog()
    sink = FolderSink(folder, out, part=part)
    try:
        with Parser(catalog, sink, format=format, fields=fields, threads=1) as parser:
            while (path := tasks.get()) is not None:
                try:
                    results.put(parser.parse(path))
                except Exception as exc:  # noqa: BLE001 - a bug must not hang the run: report it
                    results.put([FileReport(str(path), problem=f"internal error: {exc!r}")])
            results.put(parser.finish())
    finally:
        sink.close()
        results.put(None)
