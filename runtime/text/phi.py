"""Collected PHI → the forms it takes in free text.

In: the original values of the attributes a `collect` names, with their kind. Out: a `PhiSet`:
normalised words by kind (name, initials, id, date, phone, place), the words eligible for fuzzy
matching, and the digit strings of identifiers. Names yield their parts (`LAST^FIRST`,
`First Last`, `Last, First`), 3-letter initials; identifiers their whole value, digits-only and
zero-stripped forms; dates their common layouts; addresses and institutions their words minus
generic ones (a `St. Agnes Medical Center` gives `AGNES`, not `MEDICAL`). Every pattern here is
linear in the length of the value (no backtracking over a run more than once), so a hostile
collected value costs time in proportion to its size.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import regex

_SPLIT = regex.compile(r"[\s^,;/|\\]+")
# Non-word characters at either end. The trailing run is tried only where a run begins: tried at
# every character of a long run of spaces in the middle of a value, it was quadratic.
_EDGE = regex.compile(r"^[^\w]+|(?<![^\w])[^\w]+$")
# Words eligible for fuzzy matching: shorter ones match too much, longer ones are no name (and
# comparing two long words costs the product of their lengths).
FUZZY_LENGTHS = range(4, 65)

# Words of institutions, departments and addresses that identify nobody.
GENERIC_WORDS = frozenset("""
AND AT CENT CENTER CENTRE CHILDREN CHILDRENS CITY CLINIC CLINICS COLLEGE COMMUNITY COUNTY
DEPARTMENT DEPT DIAGNOSTIC DIAGNOSTICS DIVISION EAST FOR GENERAL GROUP HEALTH HEALTHCARE HOSP
HOSPITAL HOSPITALS IMAGING INSTITUTE LAB LABORATORY MEDICAL MEDICINE MEMORIAL NATIONAL NORTH OF
PARTNERS PHYSICIANS RADIOLOGY REGIONAL SAINT SCANNER SERVICES SOUTH ST SUITE SYSTEM SYSTEMS THE
UNIT UNIVERSITY WEST WARD WING BUILDING FLOOR ROOM STREET AVENUE AVE ROAD RD DRIVE DR BLVD LANE
LN WAY COURT PLACE PL HIGHWAY HWY APT UNIT NEURO CARDIO CANCER HEART ONCOLOGY NUCLEAR
CT MR MRI PET US XR DX CR MG NM OT SC RF XA ANONYMOUS UNKNOWN NONE
""".split())
NAME_STOP_WORDS = frozenset({"MD", "DR", "MR", "MRS", "MS", "JR", "SR", "II", "III", "PHD", "RN", "DO"})
DATE_LAYOUTS = ("%Y%m%d", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d", "%m-%d-%Y", "%d/%m/%Y", "%Y/%m/%d",
                "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%d-%b-%Y", "%m/%d/%y")
# Every spelled-out layout above (`%d %B %Y`, `%b %d, %Y`, ...) with a four-digit year, found in
# one pass over a text whatever the number of collected dates; month names as strftime spells them.
_MONTHS = sorted({dt.date(2000, m, 1).strftime(f) for m in range(1, 13) for f in ("%B", "%b")}, key=len, reverse=True)
_SPELLED_DATE = regex.compile(rf"(?i)[0-9]{{2}} (?:{'|'.join(_MONTHS)}) [0-9]{{4}}|(?:{'|'.join(_MONTHS)}) [0-9]{{2}}, [0-9]{{4}}")


@dataclass
class PhiSet:
    words: dict[str, str] = field(default_factory=dict)  # normalised word → kind
    fuzzy: list[str] = field(default_factory=list)  # name/place words long enough for fuzzy matching
    digits: dict[str, str] = field(default_factory=dict)  # digit strings (ids, phones, dates) → kind
    phrases: dict[str, str] = field(default_factory=dict)  # whole values and name orders → kind

    @cached_property
    def spelled_dates(self) -> list[str]:
        """Collected dates spelled out with spaces (`JUL 02, 2017`), in the order collected."""
        return [p for p, kind in self.phrases.items() if kind == "date" and " " in p]

    def find_spelled_dates(self, text: str) -> list[tuple[int, int]]:
        """Where the collected spelled-out dates occur in `text` (case-insensitively), as (start,
        end): each date's occurrences from left to right, not overlapping one another, dates in
        the order collected. One pass over the text for all of them; a date whose year has fewer
        than four digits (year < 1000) is looked for on its own."""
        phrases = self.spelled_dates
        if not phrases:
            return []
        found: dict[str, list[tuple[int, int]]] = {}
        for m in _SPELLED_DATE.finditer(text, overlapped=True):  # a date may start inside another
            found.setdefault(m.group().upper(), []).append(m.span())
        spans: list[tuple[int, int]] = []
        for phrase in phrases:
            if _SPELLED_DATE.fullmatch(phrase):
                occurrences = found.get(phrase, ())
            else:
                occurrences = [m.span() for m in regex.finditer(regex.escape(phrase), text, regex.IGNORECASE)]
            end = -1
            for start, stop in occurrences:  # as one search would find them: none overlapping
                if start >= end:
                    spans.append((start, stop))
                    end = stop
        return spans

    def add(self, word: str, kind: str) -> None:
        word = normalise_word(word)
        if len(word) < 2 or word in self.words:
            return
        self.words[word] = kind
        if kind in ("name", "place") and len(word) in FUZZY_LENGTHS and word.isalpha():
            self.fuzzy.append(word)


def normalise_word(word: str) -> str:
    """A word as PHI sets key it: upper-case, punctuation at either end dropped."""
    return _EDGE.sub("", word.upper())


def _digits(text: str) -> str:
    # ASCII only: str.isdigit() also takes '³' and other digits that int() or a DICOM value cannot hold
    return "".join(ch for ch in text if "0" <= ch <= "9")


def add_name(phi: PhiSet, value: str) -> None:
    """`LAST^FIRST^MIDDLE`, `First Last`, `Last, First`: every part and 3-letter initials. Each
    value of a multi-valued name, and each component group (`=`: ideographic, phonetic) counts."""
    for person in regex.split(r"[\\=]", value):
        components = [c.strip() for c in person.split("^")]
        for part in _SPLIT.split(person.replace(".", " ")):
            if normalise_word(part) not in NAME_STOP_WORDS and not normalise_word(part).isdigit():
                phi.add(part, "name")
        family = components[0] if components else ""
        given = components[1] if len(components) > 1 else ""
        middle = components[2] if len(components) > 2 else ""
        if family:
            phi.phrases[normalise_word(person)] = "name"
        if family and given:
            phi.phrases[f"{given} {family}".upper()] = "name"
            phi.phrases[f"{family}, {given}".upper()] = "name"
        if family and given and middle:
            letters = [given[:1], middle[:1], family[:1]]
            phi.add("".join(letters), "initials")


def add_identifier(phi: PhiSet, value: str, kind: str = "id") -> None:
    for item in value.split("\\"):
        item = item.strip()
        if not item:
            continue
        phi.add(item, kind)
        phi.phrases[normalise_word(item)] = kind
        digits = _digits(item)
        if len(digits) >= 4:
            phi.digits[digits] = kind
            phi.digits[digits.lstrip("0") or "0"] = kind
        for part in _SPLIT.split(item):
            if len(part) >= 3 and normalise_word(part) not in GENERIC_WORDS:
                phi.add(part, kind)


def add_place(phi: PhiSet, value: str) -> None:
    phi.phrases[normalise_word(value)] = "place"
    for part in _SPLIT.split(value.replace(".", " ")):
        word = normalise_word(part)
        if word in GENERIC_WORDS or len(word) < 3:
            continue
        if word.isdigit():
            phi.digits[word] = "place"
        else:
            phi.add(word, "place")


def add_date(phi: PhiSet, value: str) -> None:
    """Numeric layouts become words and digit strings; spelled-out ones (`March 14, 1962`) are
    found in text by the date patterns of `clean`, so they are not words here."""
    for item in value.split("\\"):
        head = item.strip()[:8]
        if not regex.fullmatch(r"\d{8}", head):  # strptime would read 199913 as 1999-01-03
            continue
        try:
            date = dt.datetime.strptime(head, "%Y%m%d")
        except ValueError:
            continue
        for layout in DATE_LAYOUTS:
            text = date.strftime(layout)
            if " " in text:
                phi.phrases[text.upper()] = "date"
                continue
            phi.add(text, "date")
            phi.digits[_digits(text)] = "date"


def add_phone(phi: PhiSet, value: str) -> None:
    for item in value.split("\\"):
        digits = _digits(item)
        if len(digits) >= 7:
            phi.digits[digits] = "phone"
            phi.digits[digits[-7:]] = "phone"
            phi.digits[digits[-10:]] = "phone"


def add_time(phi: PhiSet, value: str) -> None:
    """Times as burned into images: `09:00`, `0900`, `09:00:12`."""
    for item in value.split("\\"):
        digits = _digits(item.split(".")[0])
        if len(digits) < 4:
            continue
        hour, rest = int(digits[:2]), [digits[2:4]] + ([digits[4:6]] if len(digits) >= 6 else [])
        half = "PM" if hour >= 12 else "AM"
        for shown in {f"{hour:02d}", f"{hour % 12 or 12:02d}", f"{hour % 12 or 12}"}:
            for parts in (rest[:1], rest):  # HH:MM and HH:MM:SS
                clock = ":".join([shown, *parts])
                phi.phrases[clock] = "time"
                if shown != f"{hour:02d}" or hour < 12:
                    phi.phrases[f"{clock} {half}"] = "time"  # 12-hour forms: 07:18:44 PM


ADDERS = {"time": add_time, "name": add_name, "date": add_date, "phone": add_phone, "place": add_place, "id": add_identifier}


def build_phi(values: Iterable[tuple[str, str]]) -> PhiSet:
    return _build_phi(tuple(values))


@lru_cache(maxsize=256)
def _build_phi(values: tuple[tuple[str, str], ...]) -> PhiSet:
    """`values`: (kind, original text) of every collected element, sorted; kinds are decided by
    the compiler (PN → name, DA/DT → date, TM → time, telephone numbers → phone, institutions and
    addresses → place, anything else → id). Cached: the files of one patient share one set, and
    callers only read it."""
    phi = PhiSet()
    for kind, text in values:
        if text.strip():
            ADDERS[kind](phi, text)
    return phi
