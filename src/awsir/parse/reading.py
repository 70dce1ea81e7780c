"""Open AWS log files of any packaging (.gz, .zip, plain) and read them in bounded blocks.

Line formats are read as blocks of whole lines (at most :data:`BLOCK_BYTES` plus one line), so
memory stays bounded whatever the file size; a line is never split across blocks. A damaged
archive (truncated gzip, corrupt zip member) ends the member with a :class:`DamagedInput` note
instead of a traceback: what was read before the damage is still parsed.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, cast

from isal import isal_zlib  # Intel ISA-L inflate: same API as zlib, 1.5-2x faster

BLOCK_BYTES = 32 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
INFLATE_ERROR = cast("type[Exception]", isal_zlib.error)  # its stub declares an instance


@dataclass
class Member:
    """One log file: a plain file, a .gz file, or one entry of a .zip archive."""

    name: str
    open: Callable[[], IO[bytes]]
    damage: list[str] = field(default_factory=list)
    path: Path | None = None  # the file itself, when it is not inside an archive


@dataclass(frozen=True)
class Block:
    """Whole lines of a member, starting at line ``first_line`` (1-based)."""

    first_line: int
    data: bytes


def members(path: Path, name: str | None = None) -> Iterator[Member]:
    """The log files inside ``path`` (a .zip holds several; anything else is one), named after
    ``name`` when given (where the file came from, e.g. its S3 URI) instead of the local path."""
    label = name or str(path)
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        yield Member(label, lambda: io.BytesIO(b""), [f"cannot read: {exc.strerror or exc}"])
        return
    if magic.startswith(ZIP_MAGIC):
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            yield Member(label, lambda: io.BytesIO(b""), [f"unreadable zip archive: {exc}"])
            return
        with archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield Member(f"{label}!{info.filename}", partial(archive.open, info))
        return
    yield Member(label, lambda: path.open("rb"), path=path)


def _gunzip(raw: IO[bytes], size: int) -> Iterator[bytes]:
    """Decompress gzip (one or several concatenated members, as Firehose writes) chunk by chunk.

    Unlike ``GzipFile.read``, output decoded before a truncation or corruption is not lost.
    """
    inflate = isal_zlib.decompressobj(wbits=31)
    while chunk := raw.read(1 << 20):
        while chunk:
            out = inflate.decompress(chunk, size)
            if out:
                yield out
            chunk = inflate.unconsumed_tail
            if inflate.eof:
                chunk += inflate.unused_data
                if not chunk.strip(b"\x00"):
                    break
                inflate = isal_zlib.decompressobj(wbits=31)
    if not inflate.eof:
        tail = inflate.flush()
        if tail:
            yield tail
        raise EOFError("the gzip stream ends before its end marker (truncated file)")


def blocks(member: Member, size: int | None = None) -> Iterator[Block]:
    """Blocks of whole lines; a damaged tail ends the member and is recorded in ``damage``."""
    carry, line = b"", 1
    chunks = _chunks(member, size or BLOCK_BYTES)
    pending = next(chunks, None)
    while pending is not None:
        following = next(chunks, None)
        data = carry + pending
        if following is None:  # the end: whatever is left is the last block
            if data:
                yield Block(line, data)
            return
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
        else:
            complete, carry = data[: cut + 1], data[cut + 1 :]
            yield Block(line, complete)
            line += complete.count(b"\n")
        pending = following


def _chunks(member: Member, size: int | None = None) -> Iterator[bytes]:
    """Chunks of about ``size`` bytes: fewer, larger blocks amortize the per-block work."""
    parts: list[bytes] = []
    held = 0
    for piece in _pieces(member, size or BLOCK_BYTES):
        parts.append(piece)
        held += len(piece)
        if held >= (size or BLOCK_BYTES):
            yield b"".join(parts)
            parts, held = [], 0
    if parts:
        yield b"".join(parts)


def _pieces(member: Member, size: int) -> Iterator[bytes]:
    try:
        with member.open() as opened:
            stream = io.BufferedReader(cast("io.RawIOBase", opened))
            if stream.peek(2)[:2] == GZIP_MAGIC:
                yield from _gunzip(stream, size)
            else:
                while chunk := stream.read(size):
                    yield chunk
    except (EOFError, zlib.error, INFLATE_ERROR, zipfile.BadZipFile, OSError) as exc:
        member.damage.append(f"damaged compressed data: {exc or type(exc).__name__}")
    except RuntimeError as exc:  # zipfile's way of saying a member is encrypted
        member.damage.append(f"cannot read the archive member: {exc}")
