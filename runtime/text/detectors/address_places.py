"""The place part of an address for the `address` detector: `[City][,] ST|State [ZIP]`,
`[City][,] Province [A1A 1A1]`, `[Town] AB1 2CD` (UK), with the confidence each has on its own."""
from __future__ import annotations

from typing import NamedTuple

from deidc.runtime.text.detectors.address_scan import (
    CA_POSTCODE_1,
    CA_POSTCODE_2,
    COMMA,
    DOT,
    NEWLINE,
    NONE,
    SPACE,
    UK_INWARD,
    UK_OUTWARD,
    UK_WHOLE,
    WORD_GAP,
    ZIP,
    Scan,
    cue_before,
)
from deidc.runtime.text.detectors.address_words import (
    AMBIGUOUS_CODES,
    CITY_PREFIXES,
    COUNTRIES,
    CREDENTIAL_CODES,
    CUE_FILLERS,
    CUES,
    NOT_A_NAME,
    TITLES,
    cities_of,
    word_lists,
)


class Locality(NamedTuple):
    start: int
    end: int
    confidence: float  # on its own (a cue before it counted)
    certain: bool      # postcode/ZIP valid for the state, or a known city of the state
    city_only: bool = False  # a known city with no state or postcode (after a street only)
    joinable: bool = False   # enough to extend a street: `, NC`, `Somewhere, NC` (not `FINDINGS IN`)


def _region_at(scan: Scan, s: int) -> tuple[int, str, bool] | None:
    """A US state or Canadian province written from token s: (its last token, code, is_us)."""
    words = word_lists()
    for length in (4, 3, 2, 1):
        if s + length > scan.n or any(not scan.joined(k, WORD_GAP, False) for k in range(s + 1, s + length)):
            continue
        key = tuple(scan.toks[k].up for k in range(s, s + length))
        if key in words.states:
            return s + length - 1, words.states[key], True
        if key in words.provinces:
            return s + length - 1, words.provinces[key], False
    return None


def _city_before(scan: Scan, s: int, state: str | None, lowest: int) -> tuple[int | None, bool]:
    """The city that ends just before token s (joined to it by a space or a comma):
    (its first token or None, whether it is a known city of `state`)."""
    if not scan.joined(s, (SPACE, COMMA)) or s - 1 < lowest:
        return None, False
    words = word_lists()
    known = cities_of(state) if state else frozenset()
    found: int | None = None
    for c in range(s - 1, max(lowest, s - 4) - 1, -1):
        tok = scan.toks[c]
        if not tok.alpha or (c < s - 1 and not scan.joined(c + 1, WORD_GAP)):
            break
        names = [scan.toks[k].up for k in range(c, s)]
        if names[0] in CITY_PREFIXES:
            if " ".join([CITY_PREFIXES[names[0]], *names[1:]]) in known:
                found = c
        if " ".join(names).replace("-", " ") in known or " ".join(names) in known:
            found = c
    if found is not None:
        return found, True
    # not a known city: capitalised words that are not cue or clinical words
    most = 2 if scan.mixed else 1
    first: int | None = None
    for c in range(s - 1, max(lowest, s - most) - 1, -1):
        tok = scan.toks[c]
        if not tok.alpha or not tok.capital or tok.up in NOT_A_NAME or tok.up in CUES \
                or tok.up in CUE_FILLERS or tok.up in words.suffix or (c < s - 1 and not scan.joined(c + 1, WORD_GAP)):
            break
        first = c
    return first, False


def _postcode_after(scan: Scan, e: int, state: str, us: bool) -> tuple[int, bool] | None:
    """A ZIP / postcode right after token e: (its last token, valid for the state/province)."""
    k = e + 1
    if not (k < scan.n and scan.joined(k, (SPACE, COMMA, NEWLINE), False)):
        return None
    up = scan.toks[k].up
    if us:
        match = ZIP.fullmatch(up)
        if match:
            return k, state in word_lists().zip3.get(match.group(1)[:3], ())
        return None
    if CA_POSTCODE_1.fullmatch(up):
        last = k
        if len(up) == 3:
            if not (k + 1 < scan.n and scan.joined(k + 1, (SPACE, NONE), False)
                    and CA_POSTCODE_2.fullmatch(scan.toks[k + 1].up)):
                return None
            last = k + 1
        return last, up[0] in word_lists().province_letters[state]
    return None


def _country_after(scan: Scan, e: int) -> int:
    for names in COUNTRIES:
        k = e + 1
        if not (k < scan.n and scan.joined(k, (COMMA, SPACE, NEWLINE), False)):
            return e
        if all(k + m < scan.n and scan.toks[k + m].up == name for m, name in enumerate(names)):
            return k + len(names) - 1
    return e


def locality_at(scan: Scan, s: int, lowest: int) -> Locality | None:
    """A US state or Canadian province at token s, with the city before it (from token `lowest`
    on) and the ZIP or postcode after it."""
    region = _region_at(scan, s)
    if region is None:
        return None
    e, code, us = region
    state_tok = scan.toks[s]
    written_out = e > s or len(state_tok.up) > 2
    if not written_out and scan.text[state_tok.start:state_tok.end] != state_tok.up and scan.mixed:
        code_lower = True   # `or`, `in`, `Me` in a text with capitals: a word
    else:
        code_lower = not written_out and scan.text[state_tok.start:state_tok.end].islower()
    city, known = _city_before(scan, s, code if us else None, lowest)
    comma = scan.seps[s] == COMMA
    postcode = _postcode_after(scan, e, code, us)
    start = city if city is not None else s
    cue = cue_before(scan, start)
    if postcode is not None:
        e, valid = postcode
        e = _country_after(scan, e)
        if city is not None:
            confidence = 0.95 if (valid and (known or not us)) else 0.9 if valid else 0.85 if known else 0.45
        else:
            confidence = (0.8 if not us else 0.45) if valid else 0.3
            if cue and valid:
                confidence = max(confidence, 0.7)
        return Locality(start, e, confidence, valid or known, joinable=True)
    joinable = known or (comma and not code_lower)
    if city is None:
        return Locality(s, e, 0.0, False, joinable=joinable)  # a state alone: only after a street
    if us:
        if not known:
            confidence = 0.45 if cue and comma and written_out else 0.0
        elif comma and not code_lower:
            confidence = 0.75 if cue else 0.55 if _named_place(scan, city, e, written_out) else 0.45
        elif comma:
            confidence = 0.6 if cue else 0.3
        elif cue and not code_lower and (written_out or state_tok.up not in AMBIGUOUS_CODES or scan.mixed):
            confidence = 0.6
        else:
            confidence = 0.35 if cue else 0.0
    else:
        city_tok = scan.toks[city]
        if comma and (written_out or (scan.mixed and not code_lower and city_tok.capital)):
            confidence = 0.6 if cue else 0.4
        elif comma and not code_lower:
            confidence = 0.45 if cue else 0.3
        else:
            confidence = 0.0
    return Locality(start, e, confidence, known, joinable=joinable)


def _named_place(scan: Scan, city: int, e: int, written_out: bool) -> bool:
    """A known city and its state with no cue: the state written out (`Houston, Texas`) or the
    two in parentheses (`(Alpena, MI)`; not a credential, `(Clinton, MD)`), not after a title or
    a capitalised word (a given name)."""
    if city > 0 and scan.joined(city, (SPACE, DOT, NONE)):
        word = scan.toks[city - 1]
        if word.up in TITLES or (scan.mixed and word.alpha and word.capital and not word.lower):
            return False  # `Dr. Clinton, MD`, `Jane Austin, Texas Children's`
    if written_out:
        return True
    before = scan.text[scan.toks[city - 1].end if city else 0:scan.toks[city].start].strip()
    after = scan.text[scan.toks[e].end:scan.toks[e + 1].start if e + 1 < scan.n else len(scan.text)].strip()
    return before.endswith("(") and after.startswith(")") and scan.toks[e].up not in CREDENTIAL_CODES


def uk_postcode_at(scan: Scan, k: int, any_area: bool = False) -> int | None:
    """A UK postcode starting at token k: its last token. Its area letters must be a postcode
    area, unless `any_area` (then only the two-part shape `AB1 2CD` is taken)."""
    up = scan.toks[k].up
    areas = word_lists().uk_areas
    match = UK_WHOLE.fullmatch(up)
    if match and match.group(1) in areas:
        return k
    match = UK_OUTWARD.fullmatch(up)
    if match and (any_area or match.group(1) in areas) and k + 1 < scan.n \
            and scan.joined(k + 1, (SPACE,), False) and UK_INWARD.fullmatch(scan.toks[k + 1].up):
        return k + 1
    return None


def uk_locality_at(scan: Scan, k: int, lowest: int, after_street: bool = False) -> Locality | None:
    """`[Town] AB1 2CD` at token k (the town from token `lowest` on). After a street, a town and
    a postcode of the UK shape are enough (the area letters need not be known)."""
    e = uk_postcode_at(scan, k, any_area=after_street)
    if e is None:
        return None
    if after_street and uk_postcode_at(scan, k) is None and _city_before(scan, k, None, lowest)[0] is None:
        return None
    e = _country_after(scan, e)
    city, _ = _city_before(scan, k, None, lowest)
    start = city if city is not None else k
    cue = cue_before(scan, start)
    if city is not None and scan.mixed:
        confidence = 0.85
    elif cue:
        confidence = 0.75
    else:
        confidence = 0.4
    return Locality(start, e, confidence, True, joinable=True)
