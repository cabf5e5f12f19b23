"""Names against pydicom's data dictionary: keywords → tags, tags → VRs, did-you-mean.

In: keywords, tags and name patterns as written. Out: integers and VR sets. This is the only
place the compiler consults the dictionary; the Plan carries the results.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Iterable

from pydicom.datadict import RepeatersDictionary, dictionary_VR, keyword_dict

from deidc.compiler import patterns

VALID_VRS = frozenset(
    "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN "
    "UR US UT UV".split())
TEXT_VRS = frozenset("AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT".split())
NUMERIC_TEXT_VRS = frozenset({"DS", "IS"})
BINARY_NUMBER_VRS = frozenset("FD FL SL SS SV UL US UV".split())
DATE_VRS = frozenset({"DA", "DT", "TM"})


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """'did you mean X?' for the closest choice, or None when nothing is close."""
    from rapidfuzz import fuzz, process  # only needed when something is misspelt

    match = process.extractOne(word, list(choices), scorer=fuzz.WRatio, score_cutoff=75)
    return f"did you mean '{match[0]}'?" if match else None


def tag_for_keyword(keyword: str) -> int | None:
    return keyword_dict.get(keyword)


def keyword_suggestion(keyword: str) -> str | None:
    return did_you_mean(keyword, keyword_dict)


def vrs_of_tag(tag: int) -> frozenset[str]:
    """The VRs the dictionary allows for a tag ('US or SS' → both); empty when unknown."""
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return frozenset()
    return frozenset(v.strip() for v in vr.split(" or "))


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
    for kw, tag in keyword_dict.items():
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("regex timed out")
        if compiled.search(kw, timeout=left):
            found.append(tag)
    return tuple(sorted(found))


def mask_matches_dictionary(value: int, care: int) -> bool:
    """True when some dictionary tag, or repeating-group entry such as 60xx3000, can match."""
    if any((tag & care) == value for tag in keyword_dict.values()):
        return True
    for text in RepeatersDictionary:
        r_value = int(text.lower().replace("x", "0"), 16)
        r_care = int("".join("0" if ch in "xX" else "f" for ch in text), 16)
        if (r_value ^ value) & care & r_care == 0:
            return True
    return False
