"""The tokens of the `address` detector: letter/digit runs (joined by `-` or `'`) and `#`, each with
the kind of separator before it (space, newline, `.`, `,`, `:`, `-`, or anything else, which breaks
an address), and the shapes of house numbers, unit values and postcodes."""
from __future__ import annotations

from typing import NamedTuple

import regex

from deidc.runtime.text.detectors.address_words import CUE_FILLERS, CUES

TOKEN = regex.compile(r"[^\W_]++(?:['’\-][^\W_]++)*+|#")
HOUSE_NUMBER = regex.compile(r"\d{1,6}(?:-\d{1,5})?[A-Z]?|\d{1,5}[A-Z]-?\d{1,4}")
ORDINAL = regex.compile(r"\d{1,4}(?:ST|ND|RD|TH)")
NAME_WORD = regex.compile(r"[^\W\d_]++(?:['’\-][^\W\d_]++)*+")
UNIT_VALUE = regex.compile(r"[A-Z]?\d{1,4}[A-Z]?|[A-Z]|\d{1,4}-[A-Z0-9]{1,3}|[A-Z]{1,2}-?\d{1,4}")
ZIP = regex.compile(r"(\d{5})(?:-\d{4})?")
CA_POSTCODE_1 = regex.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z](?:-?\d[ABCEGHJ-NPRSTV-Z]\d)?")
CA_POSTCODE_2 = regex.compile(r"\d[ABCEGHJ-NPRSTV-Z]\d")
UK_OUTWARD = regex.compile(r"([A-Z]{1,2})\d[A-Z\d]?")
UK_INWARD = regex.compile(r"\d[ABD-HJLNP-UW-Z]{2}")
UK_WHOLE = regex.compile(r"([A-Z]{1,2})\d[A-Z\d]?\d[ABD-HJLNP-UW-Z]{2}")
BOX_NUMBER = regex.compile(r"\d{1,7}[A-Z]?|[A-Z]\d{1,6}")

# separator kinds
NONE, SPACE, NEWLINE, DOT, COMMA, COLON, DASH, BREAK = range(8)


class Token(NamedTuple):
    start: int
    end: int
    up: str        # upper case
    alpha: bool    # letters only (with ' or -)
    capital: bool  # starts with a capital, or the text has no lower case at all
    lower: bool    # all lower case (in a text that has capitals: a common word, not a name)


class Scan:
    def __init__(self, text: str) -> None:
        self.text = text
        mixed = any(ch.islower() for ch in text) and any(ch.isupper() for ch in text)
        self.mixed = mixed
        toks: list[Token] = []
        seps: list[int] = []
        previous_end = 0
        for match in TOKEN.finditer(text):
            start, end = match.span()
            word = match.group()
            toks.append(Token(start, end, word.upper(), bool(NAME_WORD.fullmatch(word)),
                               word[0].isupper() or not mixed, mixed and word.islower()))
            seps.append(separator(text, previous_end, start) if len(toks) > 1 else BREAK)
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
        return abbreviation_dot and sep == DOT and len(self.toks[i - 1].up) <= 4 and SPACE in kinds


def separator(text: str, start: int, end: int) -> int:
    if start == end:
        return NONE
    core = "".join(ch for ch in text[start:end] if not ch.isspace())
    if not core:
        return NEWLINE if "\n" in text[start:end] or "\r" in text[start:end] else SPACE
    return {".": DOT, ",": COMMA, ".,": COMMA, ":": COLON, "-": DASH}.get(core, BREAK)


WORD_GAP = (SPACE,)
PART_GAP = (SPACE, COMMA, NEWLINE)


def cue_before(scan: Scan, i: int) -> bool:
    """A cue word (lives, address, moved, from...) within the few words before token i."""
    others = 0
    k = i - 1
    while k >= 0 and i - k <= 5:
        if scan.seps[k + 1] in (BREAK, DOT) and not (scan.seps[k + 1] == DOT and len(scan.toks[k].up) <= 3):
            return False
        word = scan.toks[k].up
        if word in CUES:
            return True
        if word not in CUE_FILLERS:
            others += 1
            if others > 1:
                return False
        k -= 1
    return False
