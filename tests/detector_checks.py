"""What the detector tests share (tests/runtime/detectors): the spans a test expects."""
from __future__ import annotations


def spans(text: str, *parts: str) -> list[tuple[int, int]]:
    """The exact spans of `parts` in `text`, each found after the one before."""
    out, at = [], 0
    for part in parts:
        start = text.index(part, at)
        out.append((start, start + len(part)))
        at = start + len(part)
    return out
