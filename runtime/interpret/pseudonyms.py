"""Keyed (HMAC-SHA256) pseudonyms: pure functions of a secret key and a value.

Every output here depends only on ``key`` (bytes) and the original text, so the
same input maps to the same pseudonym across files, processes, machines and
runs, and nobody without the key can recompute or dictionary-attack it (no
unsalted hashes anywhere).

Domain separation: each function hashes ``purpose + "\\x00" + value`` with its
own purpose string ("uid", "hash", "pseudonym", "shift"), so e.g. a UID and a
patient ID with the same text give unrelated outputs. DICOM padding (trailing
spaces / NULs) is stripped before hashing, so ``"ABC "`` and ``"ABC"`` agree.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from deidc.compiler.templates import PLACEHOLDER_RE, validate_template

__all__ = [
    "keyed_digest",
    "remap_uid",
    "keyed_hash",
    "pseudonym",
    "validate_template",
    "shift_offset",
]

MAX_UID_LEN = 64
_DIGEST_HEX = 64  # SHA-256 -> 64 hex characters
_UID_ROOT_RE = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def keyed_digest(key: bytes, value: str, purpose: str) -> bytes:
    """HMAC-SHA256(key, purpose + "\\x00" + value), value stripped of " " and NUL."""
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise ValueError("a non-empty secret key (bytes) is required")
    msg = purpose + "\x00" + value.strip(" \x00")
    return hmac.new(bytes(key), msg.encode("utf-8"), hashlib.sha256).digest()


def remap_uid(key: bytes, uid: str, root: str = "2.25") -> str:
    """Map a UID to a new, valid UID under ``root`` (blank UID -> "").

    Root "2.25" gives ``2.25.<128-bit decimal integer>`` (ISO/IEC 9834-8 style).
    Another root R gives ``R.<decimal digits of the 256-bit digest>`` cut so the
    whole UID is at most 64 characters. The appended component is the decimal
    string of an integer, so it never has a leading zero.
    """
    if not uid.strip(" \x00"):
        return ""
    if not _UID_ROOT_RE.fullmatch(root):
        raise ValueError(f"invalid UID root {root!r}")
    digest = keyed_digest(key, uid, "uid")
    if root == "2.25":
        return "2.25." + str(int.from_bytes(digest[:16], "big"))
    room = MAX_UID_LEN - len(root) - 1
    if room < 10:  # too little room left to stay collision-resistant
        raise ValueError(f"UID root {root!r} is too long (needs >= 10 free chars of 64)")
    return root + "." + str(int.from_bytes(digest, "big"))[:room]


def keyed_hash(key: bytes, value: str, length: int) -> str:
    """First ``length`` (1..64) upper-case hex characters of the keyed digest."""
    if not 1 <= length <= _DIGEST_HEX:
        raise ValueError(f"hash length must be 1..{_DIGEST_HEX}, got {length}")
    return keyed_digest(key, value, "hash").hex().upper()[:length]


def pseudonym(key: bytes, value: str, template: str) -> str:
    """Render ``template`` for ``value``; raises ValueError for a bad template.

    One digest (purpose "pseudonym") feeds every placeholder:
    - ``{hex:N}``: the first N upper-case hex characters of the digest.
    - ``{hmac:N}``: N decimal digits, ``str(int(digest) % 10**N).zfill(N)``
      (the low-order digits: uniformly spread, unlike leading digits).
    Two placeholders of the same kind therefore repeat the same characters.
    """
    error = validate_template(template)
    if error is not None:
        raise ValueError(error)
    digest = keyed_digest(key, value, "pseudonym")
    as_hex = digest.hex().upper()
    as_int = int.from_bytes(digest, "big")

    def render(m: re.Match[str]) -> str:
        kind, n = m.group(1).split(":")
        n_int = int(n)
        if kind == "hex":
            return as_hex[:n_int]
        return str(as_int % 10**n_int).zfill(n_int)

    return PLACEHOLDER_RE.sub(render, template)


def shift_offset(key: bytes, value: str, low: int, high: int) -> int:
    """Integer in [low, high] (inclusive) derived from the keyed digest ("shift")."""
    if low > high:
        raise ValueError(f"empty shift range [{low}, {high}]")
    d = keyed_digest(key, value, "shift")
    return low + int.from_bytes(d[:8], "big") % (high - low + 1)
