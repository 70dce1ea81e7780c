"""Local paths for names that come from outside: S3 keys, log group names."""

from __future__ import annotations

import re


def inside(*names: str) -> str:
    """A relative path made of ``names`` (S3 keys, log group names...) that stays below the
    folder it is joined to, whatever the names hold: keys and names are chosen by whoever
    wrote them, and ``../`` or a leading ``/`` must not place evidence outside the case.
    Empty, ``.`` and ``..`` segments are written as ``%2F``, ``%2E`` and ``%2E%2E``; the
    manifest keeps the true name."""
    parts = []
    for name in names:
        for segment in name.split("/"):
            segment = re.sub(r"[\x00-\x1f]", "_", segment)
            parts.append({"": "%2F", ".": "%2E", "..": "%2E%2E"}.get(segment, segment))
    return "/".join(parts)
