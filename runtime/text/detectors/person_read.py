"""Reading a name from a token on: how sure a token is a name after a cue of a given kind
(`name_token`), then the middle name or initial and surname after it, or the given name after
`Surname,` (`read_name`). Shared by the passes after a cue (person_cued.py) and `Maria (daughter)`
(person_uncued.py). Each step looks at most a few tokens ahead."""
from __future__ import annotations

import re
from typing import NamedTuple

from deidc.runtime.text.detectors.person_scan import (
    C_CUE_COMMON,
    C_CUE_NAME,
    C_CUE_UNLISTED,
    C_REVIEW,
    C_STAFF,
    C_TITLE,
    C_WEAK_NAME,
    INITIAL_GAP,
    NAME_GAP,
    Scan,
    base,
    possessive,
    shape,
)
from deidc.runtime.text.detectors.person_words import (
    CLINICAL_ABBREV,
    CLINICAL_WORDS,
    COMMON,
    EPONYMS,
    EVERYDAY_WORDS,
    NOT_ALONE,
    STOP,
    WORDY,
    Name,
    is_eponym,
    listed,
    lookup,
    namelike,
    token_key,
    wordish,
)

# after a name: the end of a sentence or clause, or the end of the text
_CLAUSE_END = re.compile(r"[ \t]*(?:[.,;:!?)\n]|$)")
# after `Surname, First`: the list goes on (`, Lee`, ` and ...`)
_LIST_GOES_ON = re.compile(r"[ \t]*(?:,[ \t]*[A-Z][a-z]+(?:[ \t]*,|[ \t]+and\b)|(?:,[ \t]*)?(?:and|&)[ \t]+[A-Z])",
                           re.IGNORECASE)


class _Word(NamedTuple):
    """What the name token tests ask about one token."""
    text: str  # without a possessive `'s`
    key: str
    info: Name
    eponym: bool


# -- one name token after a cue ----------------------------------------------------------------
def name_token(scan: Scan, i: int, kind: str, labelled: bool = False) -> float | None:
    """The confidence that token i is a name given the cue kind, or None. `labelled`: the cue
    ends in `:` or `-` (`Mother: Lupus` lists a condition as often as a name)."""
    tok = base(scan.tokens[i].text)
    form = shape(tok)
    key = token_key(tok)
    info = lookup(tok)
    if key in STOP or form == "other":
        return None
    word = _Word(tok, key, info, is_eponym(key))
    clause_end = _CLAUSE_END.match(scan.text, scan.tokens[i].end) is not None
    if kind == "strong" and not labelled and key in EVERYDAY_WORDS and info.first and clause_end \
            and (form == "title" or (form == "caps" and scan.caps_text) or (form == "lower" and scan.lower_text)):
        return C_CUE_COMMON  # `girlfriend HOLLY.`, `ask for Grace.`, `spouse heather.`
    if form == "title":
        if kind in ("strong", "staff"):
            return _title_after_relation(word, kind, labelled, clause_end)
        if kind == "title":
            if listed(info) or not info.word:
                return C_TITLE
            return C_TITLE if info.word < COMMON else None
        return _title_after_weak(scan, i, word)
    if form == "caps":
        return _caps_name(scan, word, kind)
    if form == "lower":
        return _lower_name(scan, word, kind, labelled, clause_end)
    return None  # an initial alone is no name


def _title_after_relation(word: _Word, kind: str, labelled: bool, clause_end: bool) -> float | None:
    """A Title case token after a relation, contact or staff cue."""
    key, info = word.key, word.info
    if (key in CLINICAL_ABBREV and len(key) <= 2) or (key in CLINICAL_WORDS and not info.first):
        return None
    if listed(info) and namelike(info):
        if not word.eponym:
            return C_CUE_NAME
        # `guardian Nelson.`: an eponym that is a frequent name, after a relation word
        common = info.first == 1 or info.surname == 1
        return C_CUE_COMMON if kind == "strong" and not labelled and common and clause_end else C_REVIEW
    if listed(info):
        return None if key in CLINICAL_WORDS else C_CUE_COMMON
    if info.word >= WORDY or len(word.text) < 2:
        return None
    if word.eponym:
        return C_REVIEW
    if info.word or wordish(word.text):
        # a rare English word, or a name the Census lists miss (Alistair, Euphemia)
        return C_REVIEW if labelled else C_CUE_COMMON
    return C_CUE_UNLISTED


def _title_after_weak(scan: Scan, i: int, word: _Word) -> float | None:
    """A Title case token after a weak cue (per, called, pt, patient ...)."""
    key, info = word.key, word.info
    if key in EVERYDAY_WORDS and info.first and i + 1 < len(scan.tokens) and scan.gap_is(i, NAME_GAP) \
            and shape(scan.tokens[i + 1].text) == "title":
        return C_REVIEW  # raised when a surname follows (see person_cued.py)
    if key in NOT_ALONE or word.eponym:
        return None
    if listed(info) and namelike(info):
        return C_WEAK_NAME
    if listed(info) or info.word or wordish(word.text):
        return None
    return C_REVIEW


def _caps_name(scan: Scan, word: _Word, kind: str) -> float | None:
    """A token in capitals after a cue."""
    key, info = word.key, word.info
    if len(key) < 3 or key in CLINICAL_ABBREV or key in NOT_ALONE or word.eponym:
        return None
    if not scan.caps_text and not (listed(info) and namelike(info)):
        return None  # capitals in mixed text: abbreviations unless a listed name
    if kind == "title":
        if listed(info) and namelike(info):
            return C_TITLE
        return C_CUE_UNLISTED if not info.word and not wordish(word.text) else None
    if listed(info) and namelike(info):
        strong = kind in ("strong", "staff")
        if info.word < WORDY:
            return C_CUE_NAME - 0.05 if strong else C_CUE_COMMON
        return C_CUE_COMMON if strong else C_REVIEW
    if listed(info):
        return C_STAFF if kind == "strong" and info.word < COMMON else None
    if info.word or wordish(word.text):
        return None
    return C_CUE_UNLISTED if kind in ("strong", "staff") else C_REVIEW


def _lower_name(scan: Scan, word: _Word, kind: str, labelled: bool, clause_end: bool) -> float | None:
    """A lower-case token after a cue, in text without capitals only."""
    key, info = word.key, word.info
    if not scan.lower_text or key in NOT_ALONE or word.eponym:
        return None
    if listed(info) and namelike(info) and info.word < WORDY:
        return C_CUE_COMMON if kind in ("strong", "title", "staff") else C_REVIEW
    if info.first and info.word < COMMON and key not in CLINICAL_WORDS:
        if kind == "strong" and not labelled and clause_end:
            return C_CUE_COMMON  # `brother alex.`
        return C_REVIEW  # `mr pat collins`: raised when a surname follows (see person_cued.py)
    return None


# -- the whole name ------------------------------------------------------------------------------
def read_name(scan: Scan, j: int, kind: str, labelled: bool = False) -> tuple[int, int, float] | None:
    """Name tokens from token j: (first token, last token, confidence), or None."""
    n = len(scan.tokens)
    if j >= n:
        return None
    start = j
    if shape(scan.tokens[j].text) == "initial":
        # `J. Smith`: an initial, then a name
        if not scan.gap_is(j, INITIAL_GAP) or scan.upper(j) in ("I", "A") and not scan.text[
                scan.tokens[j].end:scan.tokens[j].end + 1] == ".":
            return None
        j += 1
    conf = name_token(scan, j, kind, labelled)
    if conf is None:
        return None
    inverted = first_after_comma(scan, j)
    if inverted is not None:
        return start, inverted, conf
    return start, _rest_of_name(scan, j, kind), conf


def _rest_of_name(scan: Scan, j: int, kind: str) -> int:
    """Up to two more tokens after the name token j, a middle name or initial and a surname: the
    last token of the name."""
    n = len(scan.tokens)
    last = j
    first_shape = shape(scan.tokens[j].text)
    cued = kind in ("strong", "title", "weak")
    k = j
    for _ in range(2):
        if possessive(scan.tokens[k].text) or k + 1 >= n:
            break
        nxt = scan.tokens[k + 1]
        form = shape(nxt.text)
        if len(nxt.text) == 1 and scan.lower_text and scan.text.startswith(".", nxt.end):
            form = "initial"  # `orval h. schultz`
        if form == "initial" and scan.gap_is(k, NAME_GAP) and k + 2 < n and scan.gap_is(k + 1, INITIAL_GAP):
            cand = k + 2
        elif scan.gap_is(k, NAME_GAP):
            cand = k + 1
        else:
            break
        if not surname_ok(scan, cand, first_shape, cued):
            break
        k = cand
        last = cand
    return last


def first_after_comma(scan: Scan, j: int) -> int | None:
    """`Lodi, Ty` / `HICKS, WILFRED J.` after a cue, token j the surname: the last token, or None."""
    n = len(scan.tokens)
    if j + 1 >= n or scan.gap(j) not in (",", ", ") or possessive(scan.tokens[j].text):
        return None
    sur, given = lookup(base(scan.tokens[j].text)), scan.tokens[j + 1].text
    if sur.first and not sur.surname:
        return None  # `Aunt Beatrix, Leopold ...`: a list of first names
    form = shape(given)
    gkey = token_key(given)
    if form != shape(scan.tokens[j].text) or form not in ("title", "caps", "lower") or len(gkey) < 2:
        return None
    info = lookup(given)
    if gkey in STOP or gkey in CLINICAL_ABBREV or gkey in CLINICAL_WORDS or is_eponym(gkey) \
            or not info.first or info.word >= COMMON or possessive(given):
        return None
    last = j + 1
    if last + 1 < n and shape(scan.tokens[last + 1].text) == "initial" and scan.gap_is(last, NAME_GAP) \
            and scan.tokens[last + 1].text not in ("I", "A"):
        last += 1
    after = scan.text[scan.tokens[last].end:scan.tokens[last].end + 40]
    if _LIST_GOES_ON.match(after) or scan.after_name(last):
        return None  # `Smith, Mary and Jones`, `Smith, Mary, Lee`: a list
    return last


def surname_ok(scan: Scan, i: int, first_shape: str, cued: bool = False) -> bool:
    """Token i can go on a name whose first token has `first_shape` (a middle name or surname)."""
    tok = base(scan.tokens[i].text)
    form = shape(tok)
    key = token_key(tok)
    if key in STOP or key in CLINICAL_ABBREV or form not in ("title", "caps", "lower"):
        return False
    if form == "lower" and not scan.lower_text:
        return False
    if form == "caps" and first_shape == "title" and len(key) < 3:
        return False
    info = lookup(tok)
    if scan.after_name(i) and (is_eponym(key) or not listed(info)):
        return False
    if "-" in key and form != "lower":
        return hyphen_surname(scan, key, form)
    if cued and info.surname and (key in EVERYDAY_WORDS or (key in CLINICAL_WORDS and form == "title")) \
            and (form == "title" or scan.caps_text):
        return True  # `wife Gayle Frank:`, `MR. ELOIS WOOD`: a surname after a cue
    if listed(info):
        if namelike(info):
            return not (form == "caps" and key in NOT_ALONE) and key not in CLINICAL_WORDS
        # an everyday word that is a frequent surname: `Mary Brown`, in Title case only
        return form == "title" and info.surname in (1, 2)
    if info.word or wordish(tok) or len(key) < 2:
        return False
    return form == "title" or scan.caps_text


def hyphen_surname(scan: Scan, key: str, form: str) -> bool:
    """`Stortz-Bell`, `WRIGHT-FRENCH` as a surname; `OSGOOD-SCHLATTER` (eponyms) is none."""
    parts = [q for q in key.split("-") if q]
    if not parts or (is_eponym(key) and not all(lookup(q).surname == 1 for q in parts)):
        return False  # `Smith-Jones` is a name, `Hill-Sachs` an eponym
    named = False
    for part in parts:
        info = lookup(part)
        if part in STOP or part in CLINICAL_ABBREV or part in CLINICAL_WORDS or len(part) < 2:
            return False
        if listed(info):
            named = named or (namelike(info) and part not in EPONYMS)
        elif info.word or wordish(part):
            return False
        else:
            named = named or len(part) >= 3
    return named and (form == "title" or scan.caps_text)
