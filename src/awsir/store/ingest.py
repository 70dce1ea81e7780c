"""``awsir ingest``: parse files into a case's lake, once each, all or nothing.

1. Every input file is hashed (SHA-256); files whose content the case already holds are skipped,
   so ingesting the same evidence twice adds nothing.
2. The new files are parsed on every core into ``staging/<batch>/parsed`` (the parser's own
   part files), then DuckDB rewrites each table into the lake layout, partitioned by account,
   Region and day (``PARTITION_BY``), still in staging, and sorts each partition's file by
   :data:`~awsir.store.layout.CLUSTER_BY` (who, from where, when): the Parquet row groups of
   one principal or address are then few and their min/max statistics let a timeline or a
   pivot skip the rest of the file (measured: 125 ms -> 26 ms for one principal's timeline
   over 10 M events, see ``bench/lake.py``).
3. The batch is committed (:meth:`Case.commit`): journal, moves into ``lake/`` and
   ``quarantine/``, registry entry, new catalog. Until the catalog is swapped, queries see the
   case as it was; a crash at any point leaves either the old case or a journal the next ingest
   finishes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from awsir.parse.batch import FileReport
from awsir.parse.engine import input_files
from awsir.parse.output import QUARANTINE
from awsir.parse.parallel import parse_to_folder
from awsir.parse.sql import ident, literal
from awsir.store.case import Case, crash_point
from awsir.store.catalog import build_catalog, relative
from awsir.store.layout import CLUSTER_BY, PARTITIONS

CHUNK = 8 << 20


def rewrite_memory() -> str:
    """DuckDB's memory limit for the lake rewrite: a quarter of this machine's RAM, 1-2.5 GiB.
    Sorting a partition above the limit spills to staging: correct, slower (1.25 M CloudTrail
    records sort in 8.9 s with 6 GB, 15.4 s with 1.5 GB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: the floor
        total = 0
    return f"{min(max(total // 4, 1 << 30), 5 << 29) >> 20}MB"


@dataclass
class IngestResult:
    batch: str | None = None
    new_files: int = 0
    skipped_files: int = 0  # already in the case (same SHA-256)
    recovered: str | None = None
    reports: list[FileReport] = field(default_factory=list)
    per_source: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    first: datetime | None = None
    last: datetime | None = None
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)  # hashlib releases the GIL on large updates: threads help
    return digest.hexdigest()


def _hash_or_problem(path: Path) -> tuple[str, str | None]:
    """The file's SHA-256, or why it cannot be read (the rest of the ingest goes on)."""
    if not path.exists():
        return "", "no such file (a dangling link?)"
    if not path.is_file():  # a FIFO or device would block or never end
        return "", "not a regular file: not read"
    try:
        return sha256(path), None
    except OSError as exc:
        return "", f"unreadable: {exc.strerror or exc}"


def ingest(
    paths: Sequence[Path | str],
    case: Case,
    *,
    jobs: int = 0,
    wait: bool = False,
    on_report: Callable[[FileReport], None] | None = None,
    profile: str | None = None,
    region: str | None = None,
) -> IngestResult:
    """Add the files under ``paths`` (local files and folders, ``s3://bucket/prefix``) to the
    case (see the module docstring)."""
    result = IngestResult()
    with case.writing(wait=wait):
        result.recovered = case.recover(build_catalog)
        if not case.exists():
            build_catalog(case)  # an empty case is a case: its views exist
        local = [Path(p) for p in paths if not str(p).startswith("s3://")]
        uris = [str(p) for p in paths if str(p).startswith("s3://")]
        fetched = case.staging / f"s3-{uuid.uuid4().hex[:8]}"
        origin: dict[Path, str] = {}
        if uris:  # read-only: ListObjectsV2 and GetObject; the key layout is kept
            from awsir.aws.s3 import download

            for path, obj in download(uris, fetched, profile, region).items():
                origin[path] = obj.uri
            local.append(fetched)
        files = list(input_files(local))
        with ThreadPoolExecutor(max_workers=4) as pool:
            hashes = list(pool.map(_hash_or_problem, files))
        known = case.known_hashes()
        new: dict[str, Path] = {}
        for path, (digest, problem) in zip(files, hashes, strict=True):
            if problem is not None:  # said, not dropped; not registered, so retried next time
                report = FileReport(str(origin.get(path, path)), problem=problem)
                result.reports.append(report)
                if on_report is not None:
                    on_report(report)
            elif digest in known or digest in new:
                result.skipped_files += 1
            else:
                new[digest] = path
        result.new_files = len(new)
        if not new:
            shutil.rmtree(fetched, ignore_errors=True)
            return result
        batch = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
        result.batch = batch
        staging = case.staging / batch
        parsed = staging / "parsed"
        for report in parse_to_folder(list(new.values()), parsed, "parquet", jobs=jobs):
            result.reports.append(report)
            if on_report is not None:
                on_report(report)
        crash_point("parsed")
        # rows and quarantine name the S3 object, not the download
        rename = (f"{fetched}/", "s3://") if uris else None
        moves, lake, quarantine = _lay_out(case, batch, staging, parsed, rename)
        _describe(result, parsed)
        entry = {
            "batch": batch,
            "time": datetime.now(UTC).isoformat(),
            "files": _file_entries(new, result.reports, origin),
            "lake": lake,
            "quarantine": quarantine,
        }
        case.commit(entry, moves, build_catalog)
        shutil.rmtree(fetched, ignore_errors=True)
    return result


def _lay_out(
    case: Case, batch: str, staging: Path, parsed: Path, rename: tuple[str, str] | None = None
) -> tuple[list[tuple[str, str]], dict[str, list[str]], list[str]]:
    """Staged lake files (partitioned) and quarantine files, and where each one goes."""
    moves: list[tuple[str, str]] = []
    lake: dict[str, list[str]] = {}
    keys = ", ".join(PARTITIONS)
    order = ", ".join(ident(c) for c in CLUSTER_BY)
    options = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000, ROW_GROUP_SIZE_BYTES '32MB'"
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = '{rewrite_memory()}'")  # bounded: sorts spill to staging
        con.execute(f"SET temp_directory = {literal(str(staging / 'spill'))}")
        con.execute("SET partitioned_write_flush_threshold = 100000")  # rows held per partition
        for folder in sorted(p for p in parsed.iterdir() if p.is_dir() and p.name != QUARANTINE):
            table = folder.name
            unsorted, target = staging / "partitioned" / table, staging / "lake" / table
            unsorted.parent.mkdir(parents=True, exist_ok=True)
            parts = literal(str(folder / "part-*.parquet"))
            fix = ""
            if rename is not None:
                old, new = (literal(x) for x in rename)
                fix = f" REPLACE (replace(raw_ref, {old}, {new}) AS raw_ref)"
            # 1. split into partitions; a parallel partitioned write cannot keep a sort order
            con.execute("SET preserve_insertion_order = false")
            con.execute(
                f"COPY (SELECT *{fix}, CAST(time AS DATE) AS day FROM read_parquet({parts})) "
                f"TO {literal(str(unsorted))} ({options}, PARTITION_BY ({keys}), "
                f"FILENAME_PATTERN {literal(f'part-{batch}-{{i}}')})"
            )
            # 2. sort each partition (a plain write keeps the order exactly)
            con.execute("SET preserve_insertion_order = true")
            for piece in sorted(unsorted.rglob("*.parquet")):
                staged = target / piece.relative_to(unsorted)
                staged.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY (SELECT * FROM read_parquet({literal(str(piece))}, "
                    f"hive_partitioning = false) ORDER BY {order}) TO {literal(str(staged))} "
                    f"({options})"
                )
                piece.unlink()
                final = case.lake / table / staged.relative_to(target)
                moves.append((relative(case, staged), relative(case, final)))
                lake.setdefault(table, []).append(relative(case, final))
    finally:
        con.close()
    quarantine = []
    for k, staged in enumerate(sorted((parsed / QUARANTINE).glob("part-*.jsonl"))):
        final = case.quarantine / f"{batch}-{k}.jsonl"
        if rename is not None:
            text = staged.read_text(encoding="utf-8")  # small: records that did not parse
            staged.write_text(text.replace(json.dumps(rename[0])[1:-1], rename[1]))
        moves.append((relative(case, staged), relative(case, final)))
        quarantine.append(relative(case, final))
    return moves, lake, quarantine


def _describe(result: IngestResult, parsed: Path) -> None:
    """Events per source, time span, accounts and Regions of the new rows."""
    tables = [p for p in parsed.iterdir() if p.is_dir() and p.name != QUARANTINE]
    result.quarantined = sum(r.quarantined for r in result.reports)
    if not tables:
        return
    union = " UNION ALL ".join(
        f"SELECT time, account_id, region, {literal(p.name)} AS source "
        f"FROM read_parquet({literal(str(p / 'part-*.parquet'))})"
        for p in tables
    )
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE VIEW new_rows AS {union}")
        result.per_source = dict(
            con.sql("SELECT source, count(*) FROM new_rows GROUP BY ALL ORDER BY 1").fetchall()
        )
        bounds = con.sql("SELECT min(time) AS a, max(time) AS b FROM new_rows")
        [span] = bounds.to_arrow_table().to_pylist()  # Arrow: tz-aware datetimes, no pytz
        result.first, result.last = span["a"], span["b"]
        result.accounts, result.regions = (
            [v for (v,) in con.sql(
                f"SELECT DISTINCT {ident(c)} FROM new_rows WHERE {ident(c)} IS NOT NULL ORDER BY 1"
            ).fetchall()]
            for c in ("account_id", "region")
        )  # fmt: skip
    finally:
        con.close()


def _file_entries(
    new: dict[str, Path], reports: list[FileReport], origin: dict[Path, str]
) -> list[dict[str, object]]:
    """One registry entry per input file: its hash and size, and what it became."""
    by_file: dict[str, list[FileReport]] = {}
    for report in reports:
        by_file.setdefault(report.file.split("!", 1)[0], []).append(report)
    return [
        file_entry(
            origin.get(path) or str(path.resolve()),
            digest,
            path.stat().st_size,
            by_file.get(str(path), []),
        )
        for digest, path in new.items()
    ]


def file_entry(path: str, digest: str, size: int, reports: list[FileReport]) -> dict[str, object]:
    """A registry entry of one input file: where it came from, its SHA-256 and size, and what
    its reports (one per archive member) say it became."""
    return {
        "path": path,
        "sha256": digest,
        "size": size,
        "table": ",".join(sorted({r.table for r in reports if r.table})) or None,
        "rows": sum(r.rows for r in reports),
        "quarantined": sum(r.quarantined for r in reports),
        "problem": "; ".join(r.problem for r in reports if r.problem) or None,
    }
