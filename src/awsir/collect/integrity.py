"""CloudTrail log file integrity, checked on the collected evidence with its digest files.

Each hour CloudTrail writes a digest file listing the log files it delivered, with the SHA-256
of each one's uncompressed content, the hash and signature of the previous digest (a chain),
and signs the digest: RSA with SHA-256 over ``digestEndTime \\n bucket/key \\n hex SHA-256 of
the uncompressed digest \\n previous signature``, the signature in the object's
``x-amz-meta-signature``. The public keys come from cloudtrail:ListPublicKeys.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html

Verdicts: a log file is **valid** (its hash matches a digest), **altered** (it does not),
**missing** (a digest lists it, the case does not have it) or **not covered** (collected, but in
no collected digest: outside the digests' hours, or forged). A digest is **valid**, **invalid**
(bad signature), or **unverifiable** (no public key for its fingerprint); a chain link is
**broken** when the previous digest in the case does not hash to what the next one says.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from awsir.collect.run import EVIDENCE, manifest_entries


@dataclass
class Integrity:
    digests: dict[str, str] = field(
        default_factory=dict
    )  # digest URI -> valid/invalid/unverifiable
    logs: dict[str, str] = field(
        default_factory=dict
    )  # log URI -> valid/altered/missing/not covered
    chain: dict[str, str] = field(default_factory=dict)  # digest URI -> broken (only when so)

    @property
    def clean(self) -> bool:
        return (all(v == "valid" for v in self.digests.values())
                and all(v == "valid" for v in self.logs.values()) and not self.chain)  # fmt: skip

    def counts(self) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {"digests": {}, "logs": {}}
        for kind, verdicts in (("digests", self.digests), ("logs", self.logs)):
            for verdict in verdicts.values():
                found[kind][verdict] = found[kind].get(verdict, 0) + 1
        found["chain"] = {"broken": len(self.chain)}
        return found


def uncompressed(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def signing_string(digest: dict[str, Any], digest_sha256: str) -> bytes:
    previous = digest.get("previousDigestSignature") or "null"
    return (f"{digest['digestEndTime']}\n{digest['digestS3Bucket']}/{digest['digestS3Object']}\n"
            f"{digest_sha256}\n{previous}").encode()  # fmt: skip


def verify_signature(public_key_der: bytes, signature_hex: str, message: bytes) -> bool:
    key = load_der_public_key(public_key_der)
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(bytes.fromhex(signature_hex), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def check(case_root: Path, public_keys: dict[str, bytes]) -> Integrity:
    """Validate the case's CloudTrail evidence. ``public_keys``: fingerprint -> DER key."""
    entries = manifest_entries(case_root / EVIDENCE)
    by_uri = {e["uri"]: e for e in entries if e["kind"] == "s3"}
    found = Integrity()
    listed: set[str] = set()
    digests = [e for e in by_uri.values() if e["source"] == "cloudtrail_digest"]
    for entry in sorted(digests, key=lambda e: e["uri"]):
        raw = uncompressed(case_root / entry["path"])
        digest = json.loads(raw)
        sha = hashlib.sha256(raw).hexdigest()
        key = public_keys.get(digest.get("digestPublicKeyFingerprint", ""))
        signature = (entry.get("metadata") or {}).get("signature")
        if key is None or not signature:
            found.digests[entry["uri"]] = "unverifiable"
        else:
            ok = verify_signature(key, signature, signing_string(digest, sha))
            found.digests[entry["uri"]] = "valid" if ok else "invalid"
        previous = by_uri.get(f"s3://{digest.get('previousDigestS3Bucket')}/"
                              f"{digest.get('previousDigestS3Object')}")  # fmt: skip
        if previous is not None:
            before = hashlib.sha256(uncompressed(case_root / previous["path"])).hexdigest()
            if before != digest.get("previousDigestHashValue"):
                found.chain[entry["uri"]] = "broken"
        for log in digest.get("logFiles") or []:
            uri = f"s3://{log['s3Bucket']}/{log['s3Object']}"
            listed.add(uri)
            have = by_uri.get(uri)
            if have is None or not (case_root / have["path"]).exists():
                found.logs[uri] = "missing"
                continue
            actual = hashlib.sha256(uncompressed(case_root / have["path"])).hexdigest()
            found.logs[uri] = "valid" if actual == log.get("hashValue") else "altered"
    for uri, entry in by_uri.items():
        if entry["source"] == "cloudtrail_trail" and uri not in listed and digests:
            found.logs[uri] = "not covered"
    return found
