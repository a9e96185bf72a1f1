"""Keep sensitive values out of sani's own output: keyed hashes and masks instead of clear text."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

_RUN_KEY = secrets.token_bytes(32)


def hash_key() -> bytes:
    """The key for value hashes.

    `SANI_HASH_KEY` (kept by the data owner) makes hashes comparable across runs; without it a random key
    per process is used, so hashes only compare within one run and cannot be brute-forced from the file
    alone (an SSN has only 1e9 candidates, so a plain or publicly salted hash would not protect it).
    """
    env = os.environ.get("SANI_HASH_KEY")
    return env.encode() if env else _RUN_KEY


def value_hash(value: str) -> str:
    """A short keyed hash (HMAC-SHA256) of a sensitive value."""
    return hmac.new(hash_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def mask(value: str, keep: int = 0) -> str:
    """`John Smith` -> `J*********` (keep=1): shape without content, for tables shown to people."""
    keep = max(0, min(keep, len(value) // 4))
    return value[:keep] + "*" * (len(value) - keep)
