"""Postal addresses in free text: street lines, PO boxes, `City, ST ZIP`, Canadian and UK postcodes.

The text is cut into tokens (letter/digit runs, joined by `-` or `'`, and `#`), each with the
separator before it (space, newline, `.`, `,`, `:` or anything else, which breaks an address).
From each token the detector tries, within a fixed number of tokens (so the time is linear in
the text's length), the shapes below; a shape's pieces must be separated as addresses are, and
its words come from rulesets/address-words.json (USPS Publication 28 street suffixes and unit
designators, US states, Canadian provinces, UK postcode areas; and, for the US, the cities of
each state and the states each 3-digit ZIP prefix serves, from the `zipcodes` data set):

- street: house number (`12`, `221B`, `12-34`), optional directional, 1-5 street-name words and
  a street suffix (`Oak Lane`, `N Main St`, `Lake Shore Dr`), optional directional after it and
  a unit (`Apt 4B`, `Suite 200`, `#12`, `Flat 3` also before the number); `Highway 50`-style
  roads; French-Canadian `123 rue Sainte-Catherine` only when a city/province follows.
- PO box: `PO Box 123`, `P.O. Box`, `Post Office Box`, `RR 2 Box 15`.
- locality: `[City][,] ST|State [ZIP]`, `[City][,] Province [A1A 1A1]`, `[Town] AB1 2CD` (UK).
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
    street with an abbreviated or less common suffix, a bare `City, ST`, a bare postcode,
    `ST 97401` without a city ..................................................... 0.25-0.45
Clinical text survives because: a name word may not be a unit (`5 MM CT`), a function word
(`2 tubes in place`) or an imaging word (`2 AP views`); a suffix must follow at least one name
word (`3 WAY FOLEY`); a state code needs a city before it or a ZIP after it (`20 OR CT`, `PA AND
LATERAL`); a city needs its state (`MAY`, `HOPE`); words are whole tokens (`NE` is not `NECK`).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import NamedTuple

import regex

from deidc.resources import RULESETS_DIR
from deidc.runtime.text.detectors import Detection

# -- words ---------------------------------------------------------------------------------------

_DIRECTIONS = {"N", "S", "E", "W", "NE", "NW", "SE", "SW", "NORTH", "SOUTH", "EAST", "WEST",
               "NORTHEAST", "NORTHWEST", "SOUTHEAST", "SOUTHWEST"}
# The suffixes people write most; a street ending in one of them is likelier an address.
_COMMON_SUFFIXES = {"STREET", "AVENUE", "ROAD", "DRIVE", "LANE", "BOULEVARD", "COURT", "TERRACE",
                    "PARKWAY", "HIGHWAY", "CIRCLE", "TRAIL", "ALLEY", "CRESCENT", "PLACE", "WAY",
                    "EXPRESSWAY", "FREEWAY", "TURNPIKE", "CLOSE"}
_FRENCH_TYPES = {"RUE", "CHEMIN", "BOULEVARD", "BOUL", "AVENUE", "AV", "RANG", "MONTEE", "ROUTE", "PLACE"}
_ROAD_NUMBERED = {"HIGHWAY", "HWY", "ROUTE", "RTE"}
_ROAD_NUMBERED_PREFIX = {"COUNTY", "STATE", "US", "INTERSTATE", "FM", "FARM"}
_CUES = {"LIVES", "LIVE", "LIVED", "LIVING", "RESIDES", "RESIDE", "RESIDED", "RESIDING", "RESIDENT",
         "RESIDENCE", "ADDRESS", "ADDRESSES", "ADDR", "HOME", "MOVED", "MOVING", "MOVE", "RELOCATED",
         "RELOCATING", "RELOCATE", "LOCATED", "FROM", "BORN", "HOMETOWN", "DOMICILE", "DOMICILED",
         "STAYING", "STAYS", "NATIVE", "MAILING", "POSTAL", "ZIP", "POSTCODE", "HOUSE", "APARTMENT"}
_CUE_FILLERS = {"AT", "IN", "ON", "TO", "OF", "THE", "NEAR", "BACK", "IS", "WAS", "NOW", "CURRENTLY",
                "RECENTLY", "HERE", "DOWN", "UP", "OUT", "A", "AN", "AND", "HER", "HIS", "THEIR",
                "WITH", "ORIGINALLY", "CODE", "AREA", "HOMELESS"}
_FUNCTION_WORDS = {"A", "AN", "THE", "AND", "OR", "OF", "IN", "ON", "AT", "TO", "FOR", "FROM", "WITH",
                   "WITHOUT", "W", "WO", "BY", "IS", "ARE", "WAS", "WERE", "BE", "BEEN", "NO", "NOT",
                   "X", "PER", "VS", "AS", "INTO", "OVER", "UNDER", "THAN", "THEN", "THIS", "THAT",
                   "WHICH", "ALL", "EACH", "BOTH", "ALSO", "VIA", "PLUS", "MINUS", "AFTER", "BEFORE",
                   "PRIOR", "POST", "PRE", "TIMES", "ONLY", "APPROX", "APPROXIMATELY", "ABOUT"}
_MEASURE_WORDS = {"MM", "CM", "M", "KM", "ML", "CC", "L", "DL", "MG", "G", "KG", "MCG", "UG", "MCL", "UL",
                  "MMOL", "MEQ", "IU", "U", "MIN", "MINS", "MINUTE", "MINUTES", "SEC", "SECS", "SECOND",
                  "SECONDS", "HR", "HRS", "H", "HOUR", "HOURS", "DAY", "DAYS", "WK", "WKS", "WEEK", "WEEKS",
                  "MO", "MOS", "MONTH", "MONTHS", "YR", "YRS", "YEAR", "YEARS", "YO", "FR", "GAUGE", "GY",
                  "CGY", "MGY", "MSV", "SV", "KV", "KVP", "MAS", "HZ", "MHZ", "KHZ", "T", "TESLA", "MMHG",
                  "BPM", "PCT", "PERCENT", "DEG", "DEGREE", "DEGREES", "CMH2O", "LPM", "MSEC", "MS",
                  "INCH", "INCHES", "FEET", "FOOT", "LB", "LBS", "OZ", "UNITS", "MBQ", "MCI", "MRAD"}
_CLINICAL_WORDS = {"CT", "MR", "MRI", "MRA", "CTA", "XR", "CR", "DX", "US", "NM", "PET", "SPECT", "AP",
                   "PA", "LAT", "LATERAL", "OBL", "OBLIQUE", "AXIAL", "COR", "CORONAL", "SAG", "SAGITTAL",
                   "PORTABLE", "LEFT", "RIGHT", "LT", "RT", "BILAT", "BILATERAL", "CONTRAST", "VIEW",
                   "VIEWS", "SERIES", "IMAGE", "IMAGES", "SLICE", "SLICES", "LEVEL", "LEVELS", "LEAD",
                   "LEADS", "VESSEL", "VESSELS", "SEGMENT", "SEGMENTS", "LESION", "LESIONS", "NODE",
                   "NODES", "NODULE", "NODULES", "MASS", "MASSES", "CYST", "CYSTS", "STENT", "STENTS",
                   "TUBE", "TUBES", "LINE", "LINES", "DRAIN", "DRAINS", "CATHETER", "WIRE", "WIRES",
                   "CLIP", "CLIPS", "SCREW", "SCREWS", "FRACTURE", "FRACTURES", "RIB", "RIBS", "DISC",
                   "DISK", "VERTEBRA", "VERTEBRAE", "CHEST", "HEAD", "ABD", "ABDOMEN", "PELVIS",
                   "SPINE", "KNEE", "HIP", "SHOULDER", "ANKLE", "WRIST", "HAND", "FOOT", "BRAIN", "LUNG",
                   "LUNGS", "LIVER", "KIDNEY", "KIDNEYS", "HEART", "BREAST", "BONE", "BONES", "DOSE",
                   "DOSES", "PHASE", "PHASES", "SCAN", "SCANS", "STUDY", "STUDIES", "EXAM", "EXAMS",
                   "PROTOCOL", "PT", "PTS", "PATIENT", "PATIENTS", "DR", "DRS", "MD", "RN", "ECG",
                   "EKG", "STAT", "PRN", "PO", "IV", "IM", "SQ", "BID", "TID", "QID", "QD", "HX",
                   "TX", "SX", "RX", "FX", "NORMAL", "ABNORMAL", "ACUTE", "CHRONIC", "MILD",
                   "MODERATE", "SEVERE", "SMALL", "LARGE", "STABLE", "ANTERIOR",
                   "POSTERIOR", "SUPERIOR", "INFERIOR", "MEDIAL", "PROXIMAL", "DISTAL", "UPPER",
                   "LOWER", "MID", "TOTAL", "CONTROL"}
# Two-letter state codes that are also words or common abbreviations.
_AMBIGUOUS_CODES = {"OR", "IN", "ME", "HI", "OK", "OH", "LA", "MA", "PA", "DE", "AL", "CO", "ID", "AS",
                    "AR", "GA", "MI", "MS", "NE", "DC", "VA", "SC", "MD", "MO", "MT", "CT", "PR", "ON",
                    "AB", "PE", "NS", "NB", "NT", "SK"}
_NOT_A_NAME = _FUNCTION_WORDS | _MEASURE_WORDS | _CLINICAL_WORDS | _CUES | _CUE_FILLERS | _AMBIGUOUS_CODES
# Common suffixes that are also everyday words (`in place`, `one way`): in an all-capitals text
# without a cue they are not enough on their own.
_WORDLIKE_SUFFIXES = {"PLACE", "WAY", "TRAIL", "CIRCLE", "CLOSE", "COURT", "DRIVE"}
_COUNTRIES = {("CANADA",), ("USA",), ("UNITED", "STATES"), ("UK",), ("UNITED", "KINGDOM"), ("ENGLAND",),
              ("SCOTLAND",), ("WALES",), ("NORTHERN", "IRELAND")}
_CITY_PREFIXES = {"ST": "SAINT", "STE": "SAINTE", "MT": "MOUNT", "FT": "FORT", "PT": "PORT"}

_MIN_REPORTED = 0.25


class _Words(NamedTuple):
    suffix: dict[str, str]          # any spelling -> primary name (STREET, AVENUE...)
    units: set[str]                 # unit designators, any spelling
    states: dict[tuple[str, ...], str]     # ("OR",), ("OREGON",), ("NEW", "YORK") -> "OR"
    provinces: dict[tuple[str, ...], str]  # ("ON",), ("ONTARIO",) -> "ON"
    province_letters: dict[str, str]       # "ON" -> "KLMNP"
    uk_areas: set[str]
    zip3: dict[str, set[str]]
    city_lists: dict[str, str]      # state -> "CITY|CITY|..." (split on first use)


@cache
def _words() -> _Words:
    data = json.loads((RULESETS_DIR / "address-words.json").read_text(encoding="utf-8"))
    suffix: dict[str, str] = {}
    for primary, spellings in data["street_suffixes"].items():
        for spelling in [primary, *spellings]:
            suffix.setdefault(spelling, primary)
    for word in data["other_street_types"]:
        suffix.setdefault(word, word)
    units = {"#"}
    for name, spellings in data["unit_designators"].items():
        units.update([name, *spellings])
    states: dict[tuple[str, ...], str] = {}
    for code, name in data["us_states"].items():
        states[(code,)] = code
        states[tuple(name.split())] = code
    provinces: dict[tuple[str, ...], str] = {}
    letters: dict[str, str] = {}
    for code, (name, first) in data["ca_provinces"].items():
        provinces[(code,)] = code
        provinces[tuple(name.split())] = code
        letters[code] = first
    provinces[("QUÉBEC",)] = "QC"
    provinces[("NEWFOUNDLAND",)] = "NL"
    return _Words(suffix, units, states, provinces, letters, set(data["uk_postcode_areas"]),
                  {prefix: set(codes.split()) for prefix, codes in data["us_zip3"].items()},
                  data["us_cities"])


@cache
def _cities(state: str) -> frozenset[str]:
    return frozenset(_words().city_lists.get(state, "").split("|")) - {""}


@cache
def _all_cities() -> frozenset[str]:
    return frozenset().union(*(_cities(state) for state in _words().city_lists))


# -- tokens --------------------------------------------------------------------------------------

_TOKEN = regex.compile(r"[^\W_]++(?:['’\-][^\W_]++)*+|#")
_HOUSE_NUMBER = regex.compile(r"\d{1,6}(?:-\d{1,5})?[A-Z]?|\d{1,5}[A-Z]-?\d{1,4}")
_ORDINAL = regex.compile(r"\d{1,4}(?:ST|ND|RD|TH)")
_NAME_WORD = regex.compile(r"[^\W\d_]++(?:['’\-][^\W\d_]++)*+")
_UNIT_VALUE = regex.compile(r"[A-Z]?\d{1,4}[A-Z]?|[A-Z]|\d{1,4}-[A-Z0-9]{1,3}|[A-Z]{1,2}-?\d{1,4}")
_ZIP = regex.compile(r"(\d{5})(?:-\d{4})?")
_CA_POSTCODE_1 = regex.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z](?:-?\d[ABCEGHJ-NPRSTV-Z]\d)?")
_CA_POSTCODE_2 = regex.compile(r"\d[ABCEGHJ-NPRSTV-Z]\d")
_UK_OUTWARD = regex.compile(r"([A-Z]{1,2})\d[A-Z\d]?")
_UK_INWARD = regex.compile(r"\d[ABD-HJLNP-UW-Z]{2}")
_UK_WHOLE = regex.compile(r"([A-Z]{1,2})\d[A-Z\d]?\d[ABD-HJLNP-UW-Z]{2}")
_BOX_NUMBER = regex.compile(r"\d{1,7}[A-Z]?|[A-Z]\d{1,6}")

# separator kinds
_NONE, _SPACE, _NEWLINE, _DOT, _COMMA, _COLON, _DASH, _BREAK = range(8)


class _Token(NamedTuple):
    start: int
    end: int
    up: str        # upper case
    alpha: bool    # letters only (with ' or -)
    capital: bool  # starts with a capital, or the text has no lower case at all
    lower: bool    # all lower case (in a text that has capitals: a common word, not a name)


class _Scan:
    def __init__(self, text: str) -> None:
        self.text = text
        mixed = any(ch.islower() for ch in text) and any(ch.isupper() for ch in text)
        self.mixed = mixed
        toks: list[_Token] = []
        seps: list[int] = []
        previous_end = 0
        for match in _TOKEN.finditer(text):
            start, end = match.span()
            word = match.group()
            toks.append(_Token(start, end, word.upper(), bool(_NAME_WORD.fullmatch(word)),
                               word[0].isupper() or not mixed, mixed and word.islower()))
            seps.append(_separator(text, previous_end, start) if len(toks) > 1 else _BREAK)
            previous_end = end
        self.toks = toks
        self.seps = seps  # seps[i]: the separator before token i
        self.n = len(toks)

    def up(self, i: int) -> str:
        return self.toks[i].up if 0 <= i < self.n else ""

    def joined(self, i: int, kinds: tuple[int, ...], abbreviation_dot: bool = True) -> bool:
        """Token i follows token i-1 through one of the separator kinds (a `.` after a short word)."""
        if not 0 < i < self.n:
            return False
        sep = self.seps[i]
        if sep in kinds:
            return True
        return abbreviation_dot and sep == _DOT and len(self.toks[i - 1].up) <= 4 and _SPACE in kinds


def _separator(text: str, start: int, end: int) -> int:
    if start == end:
        return _NONE
    core = "".join(ch for ch in text[start:end] if not ch.isspace())
    if not core:
        return _NEWLINE if "\n" in text[start:end] or "\r" in text[start:end] else _SPACE
    return {".": _DOT, ",": _COMMA, ".,": _COMMA, ":": _COLON, "-": _DASH}.get(core, _BREAK)


_WORD_GAP = (_SPACE,)
_PART_GAP = (_SPACE, _COMMA, _NEWLINE)


# -- pieces --------------------------------------------------------------------------------------

class _Street(NamedTuple):
    start: int  # token indexes, end inclusive
    end: int
    confidence: float
    strong: bool  # common suffix or PO box: a following locality makes it certain


class _Locality(NamedTuple):
    start: int
    end: int
    confidence: float  # on its own (a cue before it counted)
    certain: bool      # postcode/ZIP valid for the state, or a known city of the state
    city_only: bool = False  # a known city with no state or postcode (after a street only)
    joinable: bool = False   # enough to extend a street: `, NC`, `Somewhere, NC` (not `FINDINGS IN`)


def _cue_before(scan: _Scan, i: int) -> bool:
    """A cue word (lives, address, moved, from...) within the few words before token i."""
    others = 0
    k = i - 1
    while k >= 0 and i - k <= 5:
        if scan.seps[k + 1] in (_BREAK, _DOT) and not (scan.seps[k + 1] == _DOT and len(scan.toks[k].up) <= 3):
            return False
        word = scan.toks[k].up
        if word in _CUES:
            return True
        if word not in _CUE_FILLERS:
            others += 1
            if others > 1:
                return False
        k -= 1
    return False


def _name_word(scan: _Scan, k: int, first: bool) -> bool:
    tok = scan.toks[k]
    if first and tok.up in _DIRECTIONS:
        return True
    if tok.up in _NOT_A_NAME:
        return False
    return tok.alpha or bool(_ORDINAL.fullmatch(tok.up))


def _street_name(scan: _Scan, j: int) -> tuple[int, str, int] | None:
    """Name words then a suffix from token j: (index of the last suffix token, primary suffix,
    number of name words in lower case)."""
    words = _words()
    lower = 0
    for k in range(j, min(j + 6, scan.n)):
        if k > j and not scan.joined(k, _WORD_GAP):
            return None
        up = scan.toks[k].up
        if k > j and up in words.suffix:
            primary = words.suffix[up]
            # `Lake Shore Drive`, `Forest Park Lane`: a suffix word may be part of the name
            for _ in range(2):
                nxt = k + 1
                if nxt < scan.n and scan.joined(nxt, _WORD_GAP) and scan.toks[nxt].up in words.suffix \
                        and scan.toks[nxt].up not in words.units and not scan.toks[nxt].lower:
                    k = nxt
                    primary = words.suffix[scan.toks[k].up]
            return k, primary, lower
        if not _name_word(scan, k, k == j):
            return None
        lower += scan.toks[k].lower
    return None


def _suffix_confidence(scan: _Scan, k: int, primary: str) -> tuple[float, bool]:
    tok = scan.toks[k]
    if primary in _COMMON_SUFFIXES:
        if tok.up == primary or len(tok.up) > 4:      # written out
            if scan.mixed and tok.capital:
                return 0.7, True
            return (0.45 if primary in _WORDLIKE_SUFFIXES else 0.6), True
        if scan.mixed and tok.capital and not tok.up == scan.text[tok.start:tok.end]:  # `St`, `Ave`
            return 0.55, True
        return 0.4, True
    return (0.35 if scan.mixed and tok.capital else 0.25), False


def _street_at(scan: _Scan, i: int) -> _Street | None:
    words = _words()
    tok = scan.toks[i]
    if not _HOUSE_NUMBER.fullmatch(tok.up):
        return None
    if i > 0 and (scan.seps[i] in (_DOT, _NONE) and scan.toks[i - 1].up.isdigit()
                  or scan.toks[i - 1].up in words.units or scan.toks[i - 1].up in ("NO", "NUMBER", "X", "BOX")):
        return None  # 2.5, Suite 200, # 4, x 3
    j = i + 1
    if not scan.joined(j, _WORD_GAP, abbreviation_dot=False):
        return None
    end: int | None = None
    confidence, strong = 0.0, False
    # `1200 Highway 50`, `12 County Road 5`
    k = j + 1 if scan.up(j) in _ROAD_NUMBERED_PREFIX else j
    if (scan.up(k) in _ROAD_NUMBERED or (k > j and scan.up(k) in ("ROAD", "RD"))) \
            and scan.joined(k + 1, _WORD_GAP) and _UNIT_VALUE.fullmatch(scan.up(k + 1)) and k <= j + 1 \
            and (k == j or scan.joined(k, _WORD_GAP)):
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
    # directional after the suffix: `100 Queen St West`
    if scan.up(end + 1) in _DIRECTIONS and scan.joined(end + 1, _WORD_GAP) and not scan.toks[end + 1].lower:
        end += 1
    # unit after: `Apt 4B`, `Suite 200`, `#12`, `, Unit 5`
    unit = _unit_at(scan, end + 1)
    if unit:
        end = unit
        confidence += 0.25 if scan.toks[end - 1].up != "#" else 0.1
    # unit before: `Flat 3, 14 High Street`
    elif i >= 2 and scan.joined(i, _PART_GAP) and scan.toks[i - 2].up in words.units \
            and scan.toks[i - 2].up != "#" and _UNIT_VALUE.fullmatch(scan.toks[i - 1].up) \
            and scan.joined(i - 1, _WORD_GAP):
        start = i - 2
        confidence += 0.25
    if _cue_before(scan, start):
        confidence = max(confidence + 0.25, 0.85 if strong else 0.65)
    return _Street(start, end, min(confidence, 0.9), strong)


def _unit_at(scan: _Scan, k: int) -> int | None:
    """A unit (`Apt 4B`, `# 12`, `Suite 200`) starting at token k: the index of its value."""
    if not (k < scan.n and scan.joined(k, _PART_GAP)) or scan.toks[k].up not in _words().units:
        return None
    v = k + 1
    if scan.up(v) == "#" and scan.seps[v] in (_SPACE, _NONE):  # `Apt #4`
        v += 1
    if v < scan.n and scan.seps[v] in (_SPACE, _NONE, _DOT) and _UNIT_VALUE.fullmatch(scan.toks[v].up):
        if scan.seps[v] == _NONE and scan.toks[k].up != "#" and scan.toks[v - 1].up != "#":
            return None
        return v
    return None


def _po_box_at(scan: _Scan, i: int) -> _Street | None:
    up = scan.up
    k = i
    if up(k) in ("PO", "POB") or (up(k) == "P" and up(k + 1) == "O" and scan.seps[k + 1] in (_DOT, _NONE, _SPACE)):
        k += 1 if up(k) != "P" else 2
    elif up(k) == "POST" and up(k + 1) == "OFFICE" and scan.joined(k + 1, _WORD_GAP):
        k += 2
    elif up(k) in ("RR", "HC") and _UNIT_VALUE.fullmatch(up(k + 1)) and scan.joined(k + 1, _WORD_GAP):
        k += 2  # rural route / highway contract: `RR 2 Box 15`
    else:
        return None
    if up(i) != "POB":
        if up(k) != "BOX" or not scan.joined(k, (_SPACE, _DOT, _NONE)):
            return None
        k += 1
    if up(k) == "#" and scan.joined(k, (_SPACE, _NONE)):
        k += 1
    if not (k < scan.n and scan.joined(k, (_SPACE, _NONE, _COLON)) and _BOX_NUMBER.fullmatch(up(k))):
        return None
    return _Street(i, k, 0.85, True)


def _region_at(scan: _Scan, s: int) -> tuple[int, str, bool] | None:
    """A US state or Canadian province written from token s: (its last token, code, is_us)."""
    words = _words()
    for length in (4, 3, 2, 1):
        if s + length > scan.n or any(not scan.joined(k, _WORD_GAP, False) for k in range(s + 1, s + length)):
            continue
        key = tuple(scan.toks[k].up for k in range(s, s + length))
        if key in words.states:
            return s + length - 1, words.states[key], True
        if key in words.provinces:
            return s + length - 1, words.provinces[key], False
    return None


def _city_before(scan: _Scan, s: int, state: str | None, lowest: int) -> tuple[int | None, bool]:
    """The city that ends just before token s (joined to it by a space or a comma):
    (its first token or None, whether it is a known city of `state`)."""
    if not scan.joined(s, (_SPACE, _COMMA)) or s - 1 < lowest:
        return None, False
    words = _words()
    known = _cities(state) if state else frozenset()
    found: int | None = None
    for c in range(s - 1, max(lowest, s - 4) - 1, -1):
        tok = scan.toks[c]
        if not tok.alpha or (c < s - 1 and not scan.joined(c + 1, _WORD_GAP)):
            break
        names = [scan.toks[k].up for k in range(c, s)]
        if names[0] in _CITY_PREFIXES:
            if " ".join([_CITY_PREFIXES[names[0]], *names[1:]]) in known:
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
        if not tok.alpha or not tok.capital or tok.up in _NOT_A_NAME or tok.up in _CUES \
                or tok.up in _CUE_FILLERS or tok.up in words.suffix or (c < s - 1 and not scan.joined(c + 1, _WORD_GAP)):
            break
        first = c
    return first, False


def _postcode_after(scan: _Scan, e: int, state: str, us: bool) -> tuple[int, bool] | None:
    """A ZIP / postcode right after token e: (its last token, valid for the state/province)."""
    k = e + 1
    if not (k < scan.n and scan.joined(k, (_SPACE, _COMMA, _NEWLINE), False)):
        return None
    up = scan.toks[k].up
    if us:
        match = _ZIP.fullmatch(up)
        if match:
            return k, state in _words().zip3.get(match.group(1)[:3], ())
        return None
    if _CA_POSTCODE_1.fullmatch(up):
        last = k
        if len(up) == 3:
            if not (k + 1 < scan.n and scan.joined(k + 1, (_SPACE, _NONE), False)
                    and _CA_POSTCODE_2.fullmatch(scan.toks[k + 1].up)):
                return None
            last = k + 1
        return last, up[0] in _words().province_letters[state]
    return None


def _country_after(scan: _Scan, e: int) -> int:
    for names in _COUNTRIES:
        k = e + 1
        if not (k < scan.n and scan.joined(k, (_COMMA, _SPACE, _NEWLINE), False)):
            return e
        if all(k + m < scan.n and scan.toks[k + m].up == name for m, name in enumerate(names)):
            return k + len(names) - 1
    return e


def _locality_at(scan: _Scan, s: int, lowest: int) -> _Locality | None:
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
    comma = scan.seps[s] == _COMMA
    postcode = _postcode_after(scan, e, code, us)
    start = city if city is not None else s
    cue = _cue_before(scan, start)
    if postcode is not None:
        e, valid = postcode
        e = _country_after(scan, e)
        if city is not None:
            confidence = 0.95 if (valid and (known or not us)) else 0.9 if valid else 0.85 if known else 0.45
        else:
            confidence = (0.8 if not us else 0.45) if valid else 0.3
            if cue and valid:
                confidence = max(confidence, 0.7)
        return _Locality(start, e, confidence, valid or known, joinable=True)
    joinable = known or (comma and not code_lower)
    if city is None:
        return _Locality(s, e, 0.0, False, joinable=joinable)  # a state alone: only after a street
    if us:
        if not known:
            confidence = 0.45 if cue and comma and written_out else 0.0
        elif comma and not code_lower:
            confidence = 0.75 if cue else 0.45
        elif comma:
            confidence = 0.6 if cue else 0.3
        elif cue and not code_lower and (written_out or state_tok.up not in _AMBIGUOUS_CODES or scan.mixed):
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
    return _Locality(start, e, confidence, known, joinable=joinable)


def _uk_postcode_at(scan: _Scan, k: int) -> int | None:
    """A UK postcode starting at token k: its last token."""
    up = scan.toks[k].up
    match = _UK_WHOLE.fullmatch(up)
    if match and match.group(1) in _words().uk_areas:
        return k
    match = _UK_OUTWARD.fullmatch(up)
    if match and match.group(1) in _words().uk_areas and k + 1 < scan.n \
            and scan.joined(k + 1, (_SPACE,), False) and _UK_INWARD.fullmatch(scan.toks[k + 1].up):
        return k + 1
    return None


def _uk_locality_at(scan: _Scan, k: int, lowest: int) -> _Locality | None:
    e = _uk_postcode_at(scan, k)
    if e is None:
        return None
    e = _country_after(scan, e)
    city, _ = _city_before(scan, k, None, lowest)
    start = city if city is not None else k
    cue = _cue_before(scan, start)
    if city is not None and scan.mixed:
        confidence = 0.85
    elif cue:
        confidence = 0.75
    else:
        confidence = 0.4
    return _Locality(start, e, confidence, True, joinable=True)


def _locality_after(scan: _Scan, street: _Street) -> _Locality | None:
    """A locality that starts right after a street (city words first, or the state/postcode)."""
    p = street.end + 1
    if not (p < scan.n and scan.joined(p, _PART_GAP + (_DOT,), abbreviation_dot=False)):
        return None
    if scan.toks[p].up == "IN" and scan.joined(p + 1, _WORD_GAP, False):
        # `12 Oak St in Dayton, Ohio`: only a known city of the state or a valid postcode
        found = _locality_after(scan, _Street(street.start, p, street.confidence, street.strong))
        return found if found is not None and found.certain and not found.city_only else None
    if scan.seps[p] == _DOT and len(scan.toks[street.end].up) > 4:
        return None  # a sentence ends after the street
    for s in range(p, min(p + 5, scan.n)):
        for found in (_locality_at(scan, s, p), _uk_locality_at(scan, s, p)):
            if found is not None and found.start == p and found.joinable:
                return found
        if not scan.joined(s + 1, (_SPACE, _COMMA)):
            break
    # a known city without a state: `12 Oak Lane, Springfield`
    if scan.seps[p] == _COMMA or scan.seps[p] == _NEWLINE:
        for length in (3, 2, 1):
            last = p + length - 1
            if last >= scan.n or any(not scan.joined(k, _WORD_GAP, False) for k in range(p + 1, last + 1)):
                continue
            if not all(scan.toks[k].alpha and scan.toks[k].capital and not scan.toks[k].lower
                       for k in range(p, last + 1)):
                continue
            name = " ".join(scan.toks[k].up for k in range(p, last + 1))
            ends_clause = last + 1 >= scan.n or scan.seps[last + 1] in (_DOT, _COMMA, _NEWLINE, _BREAK)
            if name in _all_cities() and ends_clause:
                return _Locality(p, last, 0.0, False, city_only=True)
    return None


# -- the detector --------------------------------------------------------------------------------

def find(text: str) -> Iterator[Detection]:
    """Addresses in `text` (see the module docstring); linear in the length of the text."""
    scan = _Scan(text)
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
            locality = _locality_at(scan, i, 0)
            if locality is not None:
                add(locality.start, locality.end, locality.confidence)
            uk = _uk_locality_at(scan, i, 0)
            if uk is not None:
                add(uk.start, uk.end, uk.confidence)
            if up in ("ZIP", "ZIPCODE", "POSTCODE") or (up == "CODE" and scan.up(i - 1) in ("ZIP", "POSTAL", "POST")):
                k = i + 1
                if k < scan.n and scan.joined(k, (_SPACE, _COLON, _DASH), False):
                    if _ZIP.fullmatch(scan.toks[k].up) or _uk_postcode_at(scan, k) is not None:
                        add(k, _uk_postcode_at(scan, k) or k, 0.8)
                    elif _CA_POSTCODE_1.fullmatch(scan.toks[k].up):
                        last = k + 1 if len(scan.toks[k].up) == 3 and _CA_POSTCODE_2.fullmatch(scan.up(k + 1)) else k
                        add(k, last, 0.8)
            elif up in ("LIVES", "LIVING", "RESIDES", "RESIDING", "ADDRESS") and scan.up(i + 1) in ("ON", "AT", "OFF") \
                    and scan.joined(i + 1, _WORD_GAP):
                # `lives on Maple Avenue`: a street without a number
                found = _street_name(scan, i + 2) if scan.joined(i + 2, _WORD_GAP) else None
                if found is not None and all(scan.toks[k].capital and not scan.toks[k].lower
                                             for k in range(i + 2, found[0] + 1)):
                    confidence, strong = _suffix_confidence(scan, found[0], found[1])
                    add(i + 2, found[0], 0.6 if strong else confidence)

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


def _french_street_at(scan: _Scan, i: int) -> _Street | None:
    """`123 rue Sainte-Catherine` (type before the name): reported only with a locality after it."""
    if not _HOUSE_NUMBER.fullmatch(scan.toks[i].up) or scan.up(i + 1) not in _FRENCH_TYPES \
            or not scan.joined(i + 1, _WORD_GAP, False):
        return None
    end = None
    for k in range(i + 2, min(i + 6, scan.n)):
        if not (scan.joined(k, _WORD_GAP) and scan.toks[k].alpha and scan.toks[k].up not in _NOT_A_NAME):
            break
        end = k
    if end is None:
        return None
    street = _Street(i, end, 0.0, True)
    locality = _locality_after(scan, street)
    if locality is None or not locality.certain and locality.confidence == 0.0:
        return None
    return street
