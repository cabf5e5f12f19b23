"""Postal addresses in free text: street lines, PO boxes, `City, ST ZIP`, Canadian and UK postcodes.

The text is cut into tokens (address_scan.py: letter/digit runs, joined by `-` or `'`, and `#`,
each with the separator before it: space, newline, `.`, `,`, `:` or anything else, which breaks
an address). The word lists are in address_words.py, the place part (city, state, postcode) in
address_places.py; this module has the streets and puts the pieces together.
From each token the detector tries, within a fixed number of tokens (so the time is linear in
the text's length), the shapes below; a shape's pieces must be separated as addresses are, and
its words come from rulesets/address-words.json (USPS Publication 28 street suffixes and unit
designators, US states, Canadian provinces, UK postcode areas; and, for the US, the cities of
each state and the states each 3-digit ZIP prefix serves, from the `zipcodes` data set):

- street: house number (`12`, `221B`, `12-34`), optional directional, 1-5 street-name words and
  a street suffix (`Oak Lane`, `N Main St`, `Lake Shore Dr`), optional directional after it and
  a unit (`Apt 4B`, `Suite 200`, `#12`, `Flat 3` also before the number); `Highway 50`-style
  roads; French-Canadian `123 rue Sainte-Catherine` only when a city/province follows; a street
  without a number after a cue (`lives on Maple Avenue`) or ending a clause after `on`, `along`,
  `off` (`walks daily on Hyman Trail;`).
- PO box: `PO Box 123`, `P.O. Box`, `Post Office Box`, `RR 2 Box 15`.
- locality: `[City][,] ST|State [ZIP]`, `[City][,] Province [A1A 1A1]`, `[Town] AB1 2CD` (UK;
  after a street, a town and any postcode of that shape).
A street or PO box followed by a locality is one detection (the city, state and ZIP go with the
street: nothing of the address is left behind).

Confidence (`APPLY_AT` = 0.5 removes; lower is listed for review):
    street + locality with a ZIP valid for the state, a known city of the state or a
    postcode ........................................................................... 0.95
    `City, ST 97401` (ZIP valid for the state) / `City, Province A1A 1A1` .......... 0.9-0.95
    PO box ............................................................................ 0.85
    street after a cue (`lives at`, `address`, `resides`, `moved to`, `home`, `from`) ....... 0.85
    street with a full common suffix (`12 Oak Lane`), Title Case ...................... 0.7
    `City, ST` (known city of that state) after a cue ................................... 0.75
    `City ST` (no comma) after a cue, or a `City, Province` after a cue .................. 0.6
    street without a number after `on`/`along`/`off`, ending a clause, in Title Case ... 0.5-0.55
    `Houston, Texas`, `(Alpena, MI)` (known city of the state, no cue) ................... 0.55
    street with an abbreviated or less common suffix, a bare `City, ST`, a bare postcode,
    `ST 97401` without a city ..................................................... 0.25-0.45
    a street gains 0.15 after a place preposition (`outside 56 Kahn Rdg`), 0.1 for a clause
    ending after it and 0.1 for a directional after the suffix
Clinical text survives because: a name word may not be a unit (`5 MM CT`), a function word
(`2 tubes in place`) or an imaging word (`2 AP views`); a suffix must follow at least one name
word (`3 WAY FOLEY`); a state code needs a city before it or a ZIP after it (`20 OR CT`, `PA AND
LATERAL`); a city needs its state (`MAY`, `HOPE`); words are whole tokens (`NE` is not `NECK`).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from deidc.runtime.text.detectors import Detection
from deidc.runtime.text.detectors.address_places import (
    Locality,
    locality_at,
    uk_locality_at,
    uk_postcode_at,
)
from deidc.runtime.text.detectors.address_scan import (
    BOX_NUMBER,
    BREAK,
    CA_POSTCODE_1,
    CA_POSTCODE_2,
    COLON,
    COMMA,
    DASH,
    DOT,
    HOUSE_NUMBER,
    NEWLINE,
    NONE,
    ORDINAL,
    PART_GAP,
    SPACE,
    UNIT_VALUE,
    WORD_GAP,
    ZIP,
    Scan,
    cue_before,
)
from deidc.runtime.text.detectors.address_words import (
    COMMON_SUFFIXES,
    DIRECTIONS,
    EVERYDAY_SUFFIXES,
    FRENCH_TYPES,
    LOCATIVES,
    NOT_A_NAME,
    NOT_WITHOUT_NUMBER,
    ROAD_NUMBERED,
    ROAD_NUMBERED_PREFIX,
    SPELLED_ORDINALS,
    WORDLIKE_SUFFIXES,
    all_cities,
    word_lists,
)

_MIN_REPORTED = 0.25
_RESIDES = {"LIVES", "LIVING", "RESIDES", "RESIDING", "ADDRESS"}


# -- streets --------------------------------------------------------------------------------------

class _Street(NamedTuple):
    start: int  # token indexes, end inclusive
    end: int
    confidence: float
    strong: bool  # common suffix or PO box: a following locality makes it certain


def _name_word(scan: Scan, k: int, first: bool) -> bool:
    tok = scan.toks[k]
    if first and tok.up in DIRECTIONS or tok.up in SPELLED_ORDINALS:
        return True  # `N Main St`, `20 Second Rd` (`second` is also a measure word)
    if tok.up in NOT_A_NAME:
        return False
    return tok.alpha or bool(ORDINAL.fullmatch(tok.up))


def _street_name(scan: Scan, j: int) -> tuple[int, str, int] | None:
    """Name words then a suffix from token j: (index of the last suffix token, primary suffix,
    number of name words in lower case)."""
    words = word_lists()
    lower = 0
    for k in range(j, min(j + 6, scan.n)):
        if k > j and not scan.joined(k, WORD_GAP):
            return None
        up = scan.toks[k].up
        if k > j and up in words.suffix:
            primary = words.suffix[up]
            # `Lake Shore Drive`, `Forest Park Lane`: a suffix word may be part of the name
            for _ in range(2):
                nxt = k + 1
                if nxt < scan.n and scan.joined(nxt, WORD_GAP) and scan.toks[nxt].up in words.suffix \
                        and scan.toks[nxt].up not in words.units and not scan.toks[nxt].lower:
                    k = nxt
                    primary = words.suffix[scan.toks[k].up]
            return k, primary, lower
        if not _name_word(scan, k, k == j):
            return None
        # `second rd`, `68th St`: an ordinal is a street name in any case
        lower += scan.toks[k].lower and up not in SPELLED_ORDINALS and not ORDINAL.fullmatch(up)
    return None


def _suffix_confidence(scan: Scan, k: int, primary: str) -> tuple[float, bool]:
    tok = scan.toks[k]
    if primary in COMMON_SUFFIXES:
        if tok.up == primary or len(tok.up) > 4:      # written out
            if scan.mixed and tok.capital:
                return 0.7, True
            return (0.45 if primary in WORDLIKE_SUFFIXES else 0.6), True
        if scan.mixed and tok.capital and not tok.up == scan.text[tok.start:tok.end]:  # `St`, `Ave`
            return 0.55, True
        return 0.4, True
    return (0.35 if scan.mixed and tok.capital else 0.25), False


def _street_at(scan: Scan, i: int) -> _Street | None:
    words = word_lists()
    tok = scan.toks[i]
    if not HOUSE_NUMBER.fullmatch(tok.up):
        return None
    if i > 0 and (scan.seps[i] in (DOT, NONE) and scan.toks[i - 1].up.isdigit()
                  or scan.toks[i - 1].up in words.units or scan.toks[i - 1].up in ("NO", "NUMBER", "X", "BOX")):
        return None  # 2.5, Suite 200, # 4, x 3
    j = i + 1
    if not scan.joined(j, WORD_GAP, abbreviation_dot=False):
        return None
    end: int | None = None
    confidence, strong = 0.0, False
    # `1200 Highway 50`, `12 County Road 5`
    k = j + 1 if scan.up(j) in ROAD_NUMBERED_PREFIX else j
    if (scan.up(k) in ROAD_NUMBERED or (k > j and scan.up(k) in ("ROAD", "RD"))) \
            and scan.joined(k + 1, WORD_GAP) and UNIT_VALUE.fullmatch(scan.up(k + 1)) and k <= j + 1 \
            and (k == j or scan.joined(k, WORD_GAP)):
        end, confidence, strong = k + 1, 0.5, True
    if end is None:
        found = _street_name(scan, j)
        if found is not None:
            end, primary, lower = found
            confidence, strong = _suffix_confidence(scan, end, primary)
            confidence -= 0.15 * min(lower, 1)
    if end is None:
        return None
    start = i
    suffix = end
    # directional after the suffix: `100 Queen St West`
    if scan.up(end + 1) in DIRECTIONS and scan.joined(end + 1, WORD_GAP) and not scan.toks[end + 1].lower:
        end += 1
        confidence += 0.1
    # unit after: `Apt 4B`, `Suite 200`, `#12`, `, Unit 5`
    unit = _unit_at(scan, end + 1)
    if unit:
        end = unit
        confidence += 0.25 if scan.toks[end - 1].up != "#" else 0.1
    # unit before: `Flat 3, 14 High Street`
    elif i >= 2 and scan.joined(i, PART_GAP) and scan.toks[i - 2].up in words.units \
            and scan.toks[i - 2].up != "#" and UNIT_VALUE.fullmatch(scan.toks[i - 1].up) \
            and scan.joined(i - 1, WORD_GAP):
        start = i - 2
        confidence += 0.25
    if cue_before(scan, start):
        confidence = max(confidence + 0.25, 0.85 if strong else 0.65)
    else:
        confidence += _context(scan, start, suffix, end)
    return _Street(start, end, min(confidence, 0.9), strong)


def _context(scan: Scan, start: int, suffix: int, end: int) -> float:
    """What the words around a street add: a place preposition right before its number (`found
    down outside 56 Kahn Rdg`; not for a one-digit number, nor for an everyday-word suffix in a
    text without lower case: `AT 12 FOCAL POINTS`), and the clause ending with it (`; . , )`)."""
    bonus = 0.0
    if start > 0 and scan.joined(start, WORD_GAP, False) and scan.toks[start - 1].up in LOCATIVES \
            and len(scan.toks[start].up) >= 2 and (scan.mixed or scan.toks[suffix].up not in EVERYDAY_SUFFIXES):
        bonus += 0.15
    if _clause_ends(scan, end):
        bonus += 0.1
    return bonus


def _clause_ends(scan: Scan, k: int) -> bool:
    """Token k is the last of the text, a line or a clause (`,` `.` `;` `)` after it)."""
    if k + 1 >= scan.n:
        return True
    if scan.seps[k + 1] in (COMMA, DOT, NEWLINE):
        return True
    gap = scan.text[scan.toks[k].end:scan.toks[k + 1].start].strip()
    return scan.seps[k + 1] == BREAK and gap[:1] in (";", ".", ",", ")", "!", "?")


def _unnumbered_street(scan: Scan, i: int) -> _Street | None:
    """A street without a house number after the preposition at token i, in Title Case:
    after a cue (`lives on Maple Avenue`, `resides off Mill Road`), or ending a clause after `on`,
    `along` or `off` in a text with lower case (`walks daily on Hyman Trail; fell`)."""
    j = i + 1
    if not scan.joined(j, WORD_GAP):
        return None
    found = _street_name(scan, j)
    if found is None:
        return None
    end, primary = found[0], found[1]
    if not all(ORDINAL.fullmatch(scan.toks[k].up) or scan.toks[k].capital and not scan.toks[k].lower
               for k in range(j, end + 1)):
        return None
    confidence, strong = _suffix_confidence(scan, end, primary)
    if cue_before(scan, j) and (scan.up(i) != "AT" or scan.up(i - 1) in _RESIDES):
        return _Street(j, end, 0.6 if strong else max(confidence, 0.5), strong)
    if not scan.mixed or scan.up(i) == "AT" or scan.toks[end].up in NOT_WITHOUT_NUMBER \
            or not _clause_ends(scan, end) or scan.toks[end].up != primary and len(scan.toks[end].up) <= 4:
        return None  # no cue: only a written-out suffix (`Hyman Trail`, not `Hyman Tr`)
    return _Street(j, end, 0.55 if strong else 0.5, strong)


def _unit_at(scan: Scan, k: int) -> int | None:
    """A unit (`Apt 4B`, `# 12`, `Suite 200`) starting at token k: the index of its value."""
    if not (k < scan.n and scan.joined(k, PART_GAP)) or scan.toks[k].up not in word_lists().units:
        return None
    v = k + 1
    if scan.up(v) == "#" and scan.seps[v] in (SPACE, NONE):  # `Apt #4`
        v += 1
    if v < scan.n and scan.seps[v] in (SPACE, NONE, DOT) and UNIT_VALUE.fullmatch(scan.toks[v].up):
        if scan.seps[v] == NONE and scan.toks[k].up != "#" and scan.toks[v - 1].up != "#":
            return None
        return v
    return None


def _po_box_at(scan: Scan, i: int) -> _Street | None:
    up = scan.up
    k = i
    if up(k) in ("PO", "POB") or (up(k) == "P" and up(k + 1) == "O" and scan.seps[k + 1] in (DOT, NONE, SPACE)):
        k += 1 if up(k) != "P" else 2
    elif up(k) == "POST" and up(k + 1) == "OFFICE" and scan.joined(k + 1, WORD_GAP):
        k += 2
    elif up(k) in ("RR", "HC") and UNIT_VALUE.fullmatch(up(k + 1)) and scan.joined(k + 1, WORD_GAP):
        k += 2  # rural route / highway contract: `RR 2 Box 15`
    else:
        return None
    if up(i) != "POB":
        if up(k) != "BOX" or not scan.joined(k, (SPACE, DOT, NONE)):
            return None
        k += 1
    if up(k) == "#" and scan.joined(k, (SPACE, NONE)):
        k += 1
    if not (k < scan.n and scan.joined(k, (SPACE, NONE, COLON)) and BOX_NUMBER.fullmatch(up(k))):
        return None
    return _Street(i, k, 0.85, True)


def _locality_after(scan: Scan, street: _Street) -> Locality | None:
    """A locality that starts right after a street (city words first, or the state/postcode)."""
    p = street.end + 1
    if not (p < scan.n and scan.joined(p, PART_GAP + (DOT,), abbreviation_dot=False)):
        return None
    if scan.toks[p].up == "IN" and scan.joined(p + 1, WORD_GAP, False):
        # `12 Oak St in Dayton, Ohio`: only a known city of the state or a valid postcode
        found = _locality_after(scan, _Street(street.start, p, street.confidence, street.strong))
        return found if found is not None and found.certain and not found.city_only else None
    if scan.seps[p] == DOT and len(scan.toks[street.end].up) > 4:
        return None  # a sentence ends after the street
    for s in range(p, min(p + 5, scan.n)):
        for found in (locality_at(scan, s, p), uk_locality_at(scan, s, p, after_street=True)):
            if found is not None and found.start == p and found.joinable:
                return found
        if not scan.joined(s + 1, (SPACE, COMMA)):
            break
    # a known city without a state: `12 Oak Lane, Springfield`
    if scan.seps[p] == COMMA or scan.seps[p] == NEWLINE:
        for length in (3, 2, 1):
            last = p + length - 1
            if last >= scan.n or any(not scan.joined(k, WORD_GAP, False) for k in range(p + 1, last + 1)):
                continue
            if not all(scan.toks[k].alpha and scan.toks[k].capital and not scan.toks[k].lower
                       for k in range(p, last + 1)):
                continue
            name = " ".join(scan.toks[k].up for k in range(p, last + 1))
            ends_clause = last + 1 >= scan.n or scan.seps[last + 1] in (DOT, COMMA, NEWLINE, BREAK)
            if name in all_cities() and ends_clause:
                return Locality(p, last, 0.0, False, city_only=True)
    return None


# -- the detector --------------------------------------------------------------------------------

def find(text: str) -> Iterator[Detection]:
    """Addresses in `text` (see the module docstring); linear in the length of the text."""
    scan = Scan(text)
    candidates: list[tuple[float, int, int]] = []  # confidence, first token, last token

    def add(start: int, end: int, confidence: float) -> None:
        if confidence >= _MIN_REPORTED:
            candidates.append((round(min(confidence, 0.99), 2), start, end))

    for i in range(scan.n):
        up = scan.toks[i].up
        street = _po_box_at(scan, i) or _street_at(scan, i) or _french_street_at(scan, i)
        if street is not None:
            locality = _locality_after(scan, street)
            if locality is None:
                add(street.start, street.end, street.confidence)
            elif locality.city_only:
                add(street.start, locality.end, street.confidence + 0.15)
            else:  # state, province or postcode: the address is certain, and goes as one
                confidence = 0.95 if (locality.certain or street.strong) else street.confidence + 0.25
                add(street.start, locality.end, max(confidence, locality.confidence))
        if up[:1].isalpha():
            locality = locality_at(scan, i, 0)
            if locality is not None:
                add(locality.start, locality.end, locality.confidence)
            uk = uk_locality_at(scan, i, 0)
            if uk is not None:
                add(uk.start, uk.end, uk.confidence)
            if up in ("ZIP", "ZIPCODE", "POSTCODE") or (up == "CODE" and scan.up(i - 1) in ("ZIP", "POSTAL", "POST")):
                k = i + 1
                if k < scan.n and scan.joined(k, (SPACE, COLON, DASH), False):
                    if ZIP.fullmatch(scan.toks[k].up) or uk_postcode_at(scan, k) is not None:
                        add(k, uk_postcode_at(scan, k) or k, 0.8)
                    elif CA_POSTCODE_1.fullmatch(scan.toks[k].up):
                        last = k + 1 if len(scan.toks[k].up) == 3 and CA_POSTCODE_2.fullmatch(scan.up(k + 1)) else k
                        add(k, last, 0.8)
            elif up in ("ON", "ALONG", "OFF", "AT"):
                street = _unnumbered_street(scan, i)
                if street is not None:
                    add(street.start, street.end, street.confidence)

    # the most confident first; a candidate overlapping one already taken is dropped
    # (a candidate spans a bounded number of tokens, so this stays linear)
    used = bytearray(scan.n)
    taken: list[tuple[int, int, float]] = []
    for confidence, start, end in sorted(candidates, key=lambda c: (-c[0], c[1] - c[2], c[1])):
        if not any(used[start:end + 1]):
            used[start:end + 1] = b"\x01" * (end + 1 - start)
            taken.append((start, end, confidence))
    for start, end, confidence in sorted(taken):
        yield Detection(scan.toks[start].start, scan.toks[end].end, confidence)


def _french_street_at(scan: Scan, i: int) -> _Street | None:
    """`123 rue Sainte-Catherine` (type before the name): reported only with a locality after it."""
    if not HOUSE_NUMBER.fullmatch(scan.toks[i].up) or scan.up(i + 1) not in FRENCH_TYPES \
            or not scan.joined(i + 1, WORD_GAP, False):
        return None
    end = None
    for k in range(i + 2, min(i + 6, scan.n)):
        if not (scan.joined(k, WORD_GAP) and scan.toks[k].alpha and scan.toks[k].up not in NOT_A_NAME):
            break
        end = k
    if end is None:
        return None
    street = _Street(i, end, 0.0, True)
    locality = _locality_after(scan, street)
    if locality is None or not locality.certain and locality.confidence == 0.0:
        return None
    return street
