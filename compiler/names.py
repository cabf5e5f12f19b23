"""Names as a rule file writes them: did-you-mean for a misspelt name, and the dictionary
keywords a `name ~ /re/` pattern finds.

In: names and name patterns as written. Out: hints, and tags. The dictionary itself (keywords,
tags, VRs) is read through `deidc.dicom`; the Plan carries the results.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Iterable

from deidc.compiler import patterns
from deidc.dicom import keyword_tags


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """'did you mean X?' for the closest choice, or None when nothing is close."""
    from rapidfuzz import fuzz, process  # only needed when something is misspelt

    match = process.extractOne(word, list(choices), scorer=fuzz.WRatio, score_cutoff=75)
    return f"did you mean '{match[0]}'?" if match else None


def keyword_suggestion(keyword: str) -> str | None:
    return did_you_mean(keyword, keyword_tags())


# The time a `name ~ /re/` pattern may take over all the dictionary's keywords (some 5,000 names
# of at most 65 letters: a sound pattern takes milliseconds; `^(\w|\w\w)+\W` would take days).
NAME_PATTERN_SECONDS = 1.0


@functools.lru_cache(maxsize=256)
def tags_matching_name(pattern: str, flags: str) -> tuple[int, ...]:
    """Tags of all dictionary keywords that the regex finds (search, not full match). Raises
    `regex.error` for a bad pattern, `TimeoutError` when the search of all the keywords takes
    longer than `NAME_PATTERN_SECONDS`."""
    compiled = patterns.compiled(pattern, flags)
    deadline = time.monotonic() + NAME_PATTERN_SECONDS
    found = []
    for kw, tag in keyword_tags().items():
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("regex timed out")
        if compiled.search(kw, timeout=left):
            found.append(tag)
    return tuple(sorted(found))
