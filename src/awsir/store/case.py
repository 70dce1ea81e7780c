"""A case folder: the evidence lake of one investigation, and how writes to it stay atomic.

Layout (``./awsir-case`` by default)::

    lake/<table>/account_id=<id>/region=<r>/day=<yyyy-mm-dd>/part-<batch>-<n>.parquet
    quarantine/<batch>-<n>.jsonl      records that did not parse, with file, line and reason
    registry/<batch>.json            one committed ingest: its input files (SHA-256) and outputs
    catalog.duckdb                   views over the committed files only (see catalog.py)
    staging/<batch>/                 work in progress; never read by queries
    journal.json                     present only while a batch is being committed
    .lock                            held by the one ingest that may write

A batch becomes visible in one step: its registry entry is written, then the catalog is
replaced (``os.replace``), and the views name only files listed in registry entries. A crash
before the journal is written leaves only ``staging/`` (deleted by the next ingest, whose inputs
are then parsed again); a crash after it is rolled forward by the next ingest, which finishes
the moves the journal lists. Queries open the catalog read-only and never write to the case.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CASE = Path("awsir-case")
Publish = Callable[["Case"], None]
"""Makes the committed batches visible (the catalog rebuild)."""


class CaseError(Exception):
    """A case folder that cannot be used as asked (busy, missing, damaged): said plainly."""


def write_atomic(path: Path, text: str) -> None:
    """``path`` holds ``text`` entirely or not at all (a crash leaves the old file or none)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def crash_point(name: str) -> None:
    """Tests kill the process here (``AWSIR_CRASH_AT=name``), as ``kill -9`` would: no cleanup
    runs, so recovery is tested against what a real crash leaves on disk."""
    if os.environ.get("AWSIR_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Case:
    root: Path

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def registry(self) -> Path:
        return self.root / "registry"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def journal(self) -> Path:
        return self.root / "journal.json"

    def exists(self) -> bool:
        return self.catalog.exists()

    def require(self) -> None:
        if not self.exists():
            raise CaseError(
                f"no case at {self.root} (nothing ingested yet): run `awsir ingest PATH "
                f"--case {self.root}` first"
            )

    @contextmanager
    def writing(self, wait: bool = False) -> Iterator[None]:
        """The case's write lock, held for the whole ingest (one writer at a time)."""
        for folder in (self.lake, self.quarantine, self.registry, self.staging):
            folder.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise CaseError(
                    f"another awsir ingest ({holder}) is writing to {self.root}; "
                    "wait for it to finish, or pass --wait"
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh, fcntl.LOCK_UN)

    def batches(self) -> list[dict[str, Any]]:
        """Committed batches, oldest first."""
        return [
            json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(self.registry.glob("*.json"))
        ]

    def known_hashes(self) -> set[str]:
        return {f["sha256"] for b in self.batches() for f in b["files"]}

    def commit(self, entry: dict[str, Any], moves: list[tuple[str, str]], publish: Publish) -> None:
        """Make a staged batch part of the case: journal, moves, registry entry, then
        ``publish`` (the catalog rebuild that makes it visible)."""
        write_atomic(self.journal, json.dumps({"entry": entry, "moves": moves}))
        crash_point("journal")
        self._apply_journal(publish)

    def recover(self, publish: Publish) -> str | None:
        """Finish a commit a crash interrupted, and drop uncommitted staging. What was done."""
        done = None
        if self.journal.exists():
            batch = json.loads(self.journal.read_text(encoding="utf-8"))["entry"]["batch"]
            self._apply_journal(publish)
            done = f"finished committing batch {batch}, interrupted earlier"
        leftovers = [p for p in self.staging.glob("*") if p.is_dir()]
        for path in leftovers:
            shutil.rmtree(path)
        if leftovers and done is None:
            done = f"removed {len(leftovers)} uncommitted batch(es) left by an interrupted ingest"
        return done

    def _apply_journal(self, publish: Publish) -> None:
        journal = json.loads(self.journal.read_text(encoding="utf-8"))
        entry, moves = journal["entry"], journal["moves"]
        for k, (staged, final) in enumerate(moves):
            source, target = self.root / staged, self.root / final
            if source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                source.replace(target)
            elif not target.exists():
                raise CaseError(f"damaged case {self.root}: {staged} is gone and {final} absent")
            if k == len(moves) // 2:
                crash_point("moving")
        write_atomic(self.registry / f"{entry['batch']}.json", json.dumps(entry, indent=1))
        crash_point("registered")
        publish(self)
        self.journal.unlink()
        shutil.rmtree(self.staging / entry["batch"], ignore_errors=True)
