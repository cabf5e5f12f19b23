"""How a PHI value is looked for (see tools/verify/phi_search.py): `PhiValue` (one value and its
form), `PhiValues` (every value of one patient, compiled into a word table, a fuzzy table and one
regular expression) and `PhiValues.find`, which says which values a text holds."""
from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import regex
from rapidfuzz import fuzz, process

from deidc.tools.verify.phi_words import english_words

KINDS = ("name", "id", "date", "address", "phone", "place")

MAX_TEXT = 1 << 20  # characters of one value looked at
TEXT_FUZZY = 90
OCR_FUZZY = 85
FUZZY_MIN_LETTERS = 5
MIN_DIGITS = 5

MONTHS = ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER",
          "NOVEMBER", "DECEMBER")

WORD = regex.compile(r"\p{L}+")
OCR_WORD = regex.compile(r"[\p{L}\p{N}]+")  # a word as OCR reads it: a letter may come out a digit
OCR_DIGITS = str.maketrans("0158", "OISB")
NAME_SEPARATORS = r"[\s^,.]+"
DIGIT_SEPARATORS = r"[\s\-./()]{0,2}"


@dataclass(frozen=True)
class PhiValue:
    """One value of the original patient, and how it is looked for."""

    kind: str  # one of KINDS
    what: str  # what a finding calls it: "surname", "birth date", ...
    text: str  # the value (or a word of it): never printed
    source: int  # the tag it was read from
    # how: "word" (a whole word, any case; fuzzily for names), "phrase" (whole words in order),
    # "initials" (an upper-case word), "id" (the value as a word, and its digits), "phone" (its
    # digits), "digits" (one number, e.g. a ZIP code), "date" (YYYYMMDD, in the forms of _date_pattern)
    form: str

    @property
    def detail(self) -> str:
        return f"the original patient's {self.what}"


@dataclass
class PhiValues:
    """Every PHI value of one original patient, with what it takes to find them."""

    values: tuple[PhiValue, ...]
    words: dict[str, PhiValue] = field(init=False, repr=False)  # upper-case word -> value
    fuzzy: dict[str, PhiValue] = field(init=False, repr=False)  # name words searched fuzzily too
    pattern: regex.Pattern[str] | None = field(init=False, repr=False)  # everything else, one group a value
    groups: dict[str, PhiValue] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.words, self.fuzzy, self.groups = {}, {}, {}
        alternatives = []
        for value in self.values:
            if value.form == "word":
                self.words.setdefault(value.text, value)
                if value.kind == "name":
                    self.fuzzy.setdefault(value.text, value)
                continue
            body = _pattern(value)
            if body:
                name = f"v{len(self.groups)}"
                self.groups[name] = value
                alternatives.append(f"(?P<{name}>{body})")
        self.pattern = regex.compile("|".join(alternatives), regex.IGNORECASE) if alternatives else None

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[PhiValue]:
        return iter(self.values)

    def kinds(self) -> Counter[str]:
        return Counter(v.kind for v in self.values)

    def find(self, text: str, *, ocr: bool = False, initials: bool = True) -> set[PhiValue]:
        """The values found in `text`; `ocr`: text read from pixels, where letters are misread as
        digits (GALL0WAY) and the fuzzy match is looser; `initials`: look for initials too."""
        text = plain(text[:MAX_TEXT])
        found: set[PhiValue] = set()
        english = english_words()
        cutoff = OCR_FUZZY if ocr else TEXT_FUZZY
        for match in (OCR_WORD if ocr else WORD).finditer(text):
            token = match.group().upper()
            if ocr:
                if not regex.search(r"\p{L}", token):
                    continue
                token = token.translate(OCR_DIGITS)
            if len(token) < 3:
                continue
            value = self.words.get(token)
            if value is not None:
                found.add(value)
            elif (self.fuzzy and len(token) >= FUZZY_MIN_LETTERS and token not in english
                  and (best := process.extractOne(token, self.fuzzy.keys(), scorer=fuzz.ratio,
                                                  score_cutoff=cutoff)) is not None):
                found.add(self.fuzzy[best[0]])
        if self.pattern is not None:
            for match in self.pattern.finditer(text, overlapped=True):
                value = self.groups[match.lastgroup or ""]
                if initials or value.form != "initials":
                    found.add(value)
        return found


# ---- patterns -------------------------------------------------------------------------------------

def _pattern(value: PhiValue) -> str:
    """The regular expression (without flags) that finds `value`, or '' when there is none."""
    if value.form == "phrase":
        parts = regex.findall(r"\p{L}+|\d+", plain(value.text))
        if not parts:
            return ""
        return r"(?<![\p{L}\p{N}])" + NAME_SEPARATORS.join(regex.escape(p) for p in parts) + r"(?![\p{L}\p{N}])"
    if value.form == "initials":
        return r"(?-i:(?<![\p{L}\p{N}])" + regex.escape(value.text) + r"(?![\p{L}\p{N}]))"
    if value.form == "digits":
        return r"(?<!\d)" + regex.escape(value.text) + r"(?!\d)"
    if value.form in ("id", "phone"):
        forms = []
        if value.form == "id" and len(value.text) >= 3:
            forms.append(r"(?<![\p{L}\p{N}])" + regex.escape(plain(value.text)) + r"(?![\p{L}\p{N}])")
        runs = regex.findall(r"\d+", value.text) if value.form == "id" else [regex.sub(r"\D", "", value.text)]
        for run in runs:
            if len(run) >= MIN_DIGITS:
                forms.append(r"(?<!\d)" + DIGIT_SEPARATORS.join(run) + r"(?!\d)")
        return "|".join(f"(?:{f})" for f in forms)
    if value.form == "date":
        return _date_pattern(value.text)
    return ""


def _date_pattern(digits: str) -> str:
    """YYYYMMDD -> the forms a date is written in."""
    year, month, day = digits[:4], int(digits[4:6]), int(digits[6:])
    mm = f"0?{month}" if month < 10 else str(month)
    dd = f"0?{day}" if day < 10 else str(day)
    name = MONTHS[month - 1]
    sept = r"|SEPT\.?" if month == 9 else ""
    mon = f"(?:{name}|{name[:3]}\\.?{sept})"
    nth = r"(?:st|nd|rd|th)?"
    forms = [
        rf"{year}[-/.]?{month:02d}[-/.]?{day:02d}",
        rf"{year}[-/.]{mm}[-/.]{dd}",
        *(rf"{mm}{sep}{dd}{sep}{year}" for sep in ("/", "-", r"\.")),  # US: MM/DD/YYYY
        *(rf"{dd}{sep}{mm}{sep}{year}" for sep in ("/", "-", r"\.")),  # DD.MM.YYYY
        rf"{mon}\s*{dd}{nth},?\s*{year}",  # March 14, 1962
        rf"{dd}{nth}[\s\-]*(?:of\s+)?{mon}[\s\-,]*{year}",  # 14 Mar 1962, 14-Mar-1962
    ]
    return r"(?<![\p{L}\p{N}])(?:" + "|".join(forms) + r")(?![\p{L}\p{N}])"


def plain(text: str) -> str:
    """Accents dropped (JOSÉ -> JOSE), so a name matches however it was typed."""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))

