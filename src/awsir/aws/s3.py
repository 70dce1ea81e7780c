"""Objects under an S3 prefix, fetched with read-only calls (ListObjectsV2, GetObject)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awsir.aws.session import client
from awsir.paths import inside


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int
    etag: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def split_uri(uri: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``."""
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise ValueError(f"not an S3 URI: {uri!r} (expected s3://BUCKET/PREFIX)")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix


def list_objects(s3: Any, uri: str) -> Iterator[S3Object]:
    bucket, prefix = split_uri(uri)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith("/"):  # folder placeholders hold nothing
                yield S3Object(bucket, item["Key"], item["Size"], item["ETag"].strip('"'))


def download(
    uris: list[str], folder: Path, profile: str | None = None, region: str | None = None
) -> dict[Path, S3Object]:
    """Every object under the URIs, saved as ``folder/BUCKET/KEY`` (the key layout is kept:
    formats are recognised by it). Several downloads run at once."""
    s3 = client("s3", profile, region)
    objects = [o for uri in uris for o in list_objects(s3, uri)]
    targets = {folder / inside(o.bucket, o.key): o for o in objects}  # keys may hold ../

    def fetch(item: tuple[Path, S3Object]) -> None:
        target, obj = item
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(obj.bucket, obj.key, str(target))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, targets.items()))
    return targets
