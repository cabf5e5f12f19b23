"""Free-text detectors: a text in, the spans that look like PHI of one kind out, each with a
confidence.

Each detector is a module of this package with a `find(text: str) -> Iterator[Detection]`; the
names a rule may use are declared in deidc/compiler/detectors.py, and `registry.FINDERS` maps each
name to its `find` (checked at import, so a name the compiler accepts cannot fail at run time). A detection's confidence is in [0, 1]: `clean` removes what reaches `APPLY_AT`, and
lists what falls in the review band (`--review-threshold`) in review.jsonl, applied or not.
Detectors find PHI that no header holds, so they must not depend on the file's PHI set; they
must run in time linear in the text's length and must not remove ordinary clinical words
(tests/runtime/detectors hold each to a false-positive corpus).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple


class Detection(NamedTuple):
    start: int  # character offsets into the text, end exclusive
    end: int
    confidence: float  # 0..1: how sure the detector is that text[start:end] is PHI of its kind


Finder = Callable[[str], Iterator[Detection]]

# A detection at least this confident is removed.
APPLY_AT = 0.5
# Detections less confident than the review threshold (`deidc apply --review-threshold`) and at
# least REVIEW_FLOOR are listed in review.jsonl, applied or not.
DEFAULT_REVIEW_THRESHOLD = 0.8
REVIEW_FLOOR = 0.25
