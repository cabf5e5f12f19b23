"""Leftover-PHI check: a fast wrong tool cannot look good.

Every output DICOM file (mappings/ and other sidecars skipped) is matched to its corpus input
by its pixel data (the first 8 KiB are per-file noise that no tool here changes; the file name
img_NNNNN is the fallback), then its raw bytes outside the pixel data are searched for every
value `corpus.planted_phi(i)` planted in that input: as written, with '^' -> ' ', the patient's
names also by each component of >= 3 characters, each in Latin-1 and UTF-8. A value counts once
per file however many of its variants are found; unchanged original dates count.

Staff names (physicians, operators) are looked for whole, as the header holds them: every profile
removes those attributes, but a staff member named in a description is not PHI of the patient
(HIPAA Safe Harbor: the individual, relatives, employers, household) and TCIA's profile keeps it,
so "referred by Dr. Who" left in a history text is not counted.
"""

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from corpus import FILE_INDEX, file_index, planted_phi

PN_KINDS = {"patient name", "other patient names"}  # searched by name part too
DATE_KINDS = {"dates", "birth date", "date in description"}
PIXEL_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010) little endian
KEY_BYTES = 8192


@dataclass(frozen=True)
class Needle:
    """One planted value and the byte patterns that reveal it."""
    kind: str
    value: str
    patterns: tuple[bytes, ...]


@dataclass
class Leak:
    """What the check found in one tool's output folder."""
    files_out: int = 0
    leaking_files: int = 0
    values: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    missing: int = 0
    unmatched: int = 0

    def top_kinds(self, n: int = 3) -> list[str]:
        return [f"{kind} ({count})" for kind, count in self.kinds.most_common(n)]


def variants(kind: str, value: str) -> tuple[bytes, ...]:
    """Byte patterns for a planted value: itself, '^' -> ' ', name components >= 3 chars; two encodings."""
    texts = {value, value.replace("^", " ")}
    if kind in PN_KINDS:
        texts |= {part for part in re.split(r"[\^ ]", value) if len(part) >= 3}
    return tuple(sorted({t.encode(enc) for t in texts for enc in ("latin-1", "utf-8")}))


@lru_cache(maxsize=None)
def needles(i: int) -> tuple[Needle, ...]:
    """The needles of corpus file i."""
    return tuple(Needle(kind, value, variants(kind, value)) for kind, value in planted_phi(i))


def split_pixels(data: bytes) -> tuple[bytes, bytes | None]:
    """(the bytes outside native pixel data, a digest of its first 8 KiB); digest None if none found."""
    at = data.find(PIXEL_TAG)
    while at != -1:
        if data[at + 4:at + 6] in (b"OW", b"OB"):
            start, length = at + 12, int.from_bytes(data[at + 8:at + 12], "little")
        else:
            start, length = at + 8, int.from_bytes(data[at + 4:at + 8], "little")
        if KEY_BYTES <= length < 0xFFFFFFFF and start + length <= len(data):
            key = hashlib.blake2b(data[start:start + KEY_BYTES], digest_size=16).digest()
            return data[:at] + data[start + length:], key
        at = data.find(PIXEL_TAG, at + 4)
    return data, None


def pixel_index(files: list[Path]) -> dict[bytes, int]:
    """Pixel digest -> corpus index, for every corpus file."""
    index = {}
    for path in files:
        _, key = split_pixels(path.read_bytes())
        if key is not None:
            index[key] = file_index(path)
    return index


def dicom_outputs(out: Path) -> list[Path]:
    """Files under out that are DICOM (.dcm or a DICM preamble), skipping out/mappings/."""
    found = []
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.relative_to(out).parts[0] == "mappings":
            continue
        if path.suffix.lower() == ".dcm":
            found.append(path)
            continue
        with path.open("rb") as fh:
            if fh.read(132)[128:] == b"DICM":
                found.append(path)
    return found


def union_needles(expected: frozenset[int]) -> tuple[Needle, ...]:
    """Needles of every expected input, dates left out (a shifted date may equal another's original)."""
    seen: dict[bytes, Needle] = {}
    for i in sorted(expected):
        for needle in needles(i):
            if needle.kind not in DATE_KINDS:
                seen.setdefault(needle.value.encode(), needle)
    return tuple(seen.values())


def scan(out: Path, index: dict[bytes, int], expected: frozenset[int]) -> Leak:
    """Scan one tool's outputs for the planted values of the inputs they came from."""
    leak, seen = Leak(), set()
    for path in dicom_outputs(out):
        leak.files_out += 1
        header, key = split_pixels(path.read_bytes())
        i = index.get(key) if key is not None else None
        if i is None and FILE_INDEX.search(path.name):
            i = file_index(path)
        if i is None:
            leak.unmatched += 1
            candidates = union_needles(expected)
        else:
            seen.add(i)
            candidates = needles(i)
        found = [n for n in candidates if any(p in header for p in n.patterns)]
        if found:
            leak.leaking_files += 1
            leak.values += len(found)
            leak.kinds.update(n.kind for n in found)
    leak.missing = len(expected - seen)
    return leak
