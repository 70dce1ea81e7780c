"""``awsir rules update``: the AWS rules of SigmaHQ's latest release, for machines with internet.

SigmaHQ publishes its rules as release archives (https://github.com/SigmaHQ/sigma/releases);
``sigma_all_rules.zip`` holds ``rules/cloud/aws/**``. awsir downloads it (over HTTPS, or from any
URL given, such as a mirror), keeps only the ``.yml`` files under a ``cloud/aws`` folder, and
swaps them into the rules folder whole, so a failed or partial download never leaves half a
rule set. ``awsir detect`` then runs them with the built-in rules. Archive members that would
land outside the folder (``..``, absolute paths) are refused, not written.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

RELEASE_URL = "https://github.com/SigmaHQ/sigma/releases/latest/download/sigma_all_rules.zip"
MARKER = "SOURCE.json"


def default_folder() -> Path:
    """Where downloaded rules live: ``$AWSIR_SIGMA_DIR``, else the user's data folder."""
    if os.environ.get("AWSIR_SIGMA_DIR"):
        return Path(os.environ["AWSIR_SIGMA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "awsir" / "sigmahq-aws"


class UpdateError(Exception):
    """The archive could not be fetched or holds no AWS rules; the old rules are kept."""


@dataclass
class Updated:
    folder: Path
    rules: int
    refused: list[str]
    sha256: str
    url: str


def _aws_member(name: str) -> PurePosixPath | None:
    """The path under ``cloud/aws/`` of an archive member, or None if it is not an AWS rule."""
    parts = PurePosixPath(name).parts
    for k in range(len(parts) - 2):
        if parts[k] == "cloud" and parts[k + 1] == "aws":
            rest = PurePosixPath(*parts[k + 2 :])
            if rest.suffix in (".yml", ".yaml"):
                return rest
    return None


def update(url: str = RELEASE_URL, folder: Path | None = None, timeout: float = 60) -> Updated:
    folder = folder or default_folder()
    if not url.startswith(("https://", "http://", "file:")):
        raise UpdateError(f"{url}: only https://, http:// and file: URLs are fetched")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except (OSError, ValueError) as exc:
        raise UpdateError(f"downloading {url}: {exc}") from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UpdateError(f"{url} is not a zip archive") from None
    refused: list[str] = []
    staged = folder.with_name(folder.name + ".new")
    shutil.rmtree(staged, ignore_errors=True)
    count = 0
    for info in archive.infolist():
        rest = _aws_member(info.filename)
        if rest is None or info.is_dir():
            continue
        if ".." in PurePosixPath(info.filename).parts or info.filename.startswith("/"):
            refused.append(info.filename)  # a path escaping the folder: a hostile archive
            continue
        target = staged.joinpath(*rest.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(info))
        count += 1
    if not count:
        shutil.rmtree(staged, ignore_errors=True)
        raise UpdateError(f"{url} holds no rules under cloud/aws/; the current rules are kept")
    digest = hashlib.sha256(data).hexdigest()
    meta = {
        "url": url,
        "sha256": digest,
        "rules": count,
        "fetched": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (staged / MARKER).write_text(json.dumps(meta, indent=2) + "\n")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staged.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return Updated(folder, count, refused, digest, url)
