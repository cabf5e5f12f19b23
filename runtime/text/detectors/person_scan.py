"""The token scan of the `person` detector: the text cut once into letter tokens (words inside
e-mail and web addresses dropped), a token's shape, the confidences, and the questions every pass
asks about a token (the gap after it, the cue starting at it, whether what follows makes it an
eponym, an institution or a place)."""
from __future__ import annotations

import re
from typing import NamedTuple

from deidc.runtime.text.detectors.person_words import (
    CLINICAL_WORDS,
    COMMON,
    CUE_LENGTH,
    CUES,
    EPONYM_CONTEXT,
    EPONYMS,
    INSTITUTION,
    MONTHS,
    NOT_ALONE,
    STOP,
    listed,
    lookup,
    namelike,
    token_key,
)

# confidences
C_CUE_NAME = 0.9
C_TITLE = 0.85
C_CARET = 0.85
C_CUE_UNLISTED = 0.75
C_PAIR = 0.75
C_WEAK_NAME = 0.7
C_CUE_COMMON = 0.6
C_PAIR_CUED_CAPS = 0.6
C_PAIR_UNLISTED = 0.55
C_PAIR_UNLISTED_LOW = 0.45
C_REVIEW = 0.4
C_STAFF = 0.35
C_SINGLE = 0.3

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*")
# a run of text holding an e-mail address or a web address: its words are no names
_ADDRESS_CHUNK = re.compile(r"[^\s<>()\[\]\"']*(?:@|://|www\.)[^\s<>()\[\]\"']*", re.IGNORECASE)
_CREDENTIAL = re.compile(
    r",?[ \t]{0,3}(?:M\.?D|D\.?O|Ph\.?D|R\.?N|N\.?P|PA-C|D\.?D\.?S|D\.?M\.?D|MBBS|MBChB|FRCR|FRCPC|FACR|"
    r"RT\(R\)|RDMS|RVT|CNMT|ARRT|CRNA|LPN|DNP|MSN|BSN|MPH|PA\b)\b\.?")
_CONTEXT_GAP = re.compile(r"[ \t\-]{1,2}")
_CUE_WORD_GAP = re.compile(r"[ \t]{1,3}")
# gaps between the tokens of one name
NAME_GAP = re.compile(r"[ \t]{1,2}")
INITIAL_GAP = re.compile(r"\.?[ \t]{1,2}")
# a month name followed by a number is a date, not a name
DIGIT_AFTER = re.compile(r"[ \t,.]{0,3}\d")


class Token(NamedTuple):
    start: int
    end: int
    text: str


def shape(tok: str) -> str:
    """`title` (Maria, McDonald, O'Neil), `caps` (MARIA), `lower`, `initial` (J) or `other`."""
    letters = tok.replace("'", "").replace("’", "").replace("-", "")
    if len(letters) == 1:
        return "initial" if letters.isupper() else "other"
    if letters.isupper():
        return "caps"
    if letters.islower():
        return "lower"
    if tok[0].isupper() and (tok[1].islower() or (tok[1] in "'’" and len(tok) > 2 and tok[2].isupper())):
        return "title"
    return "other"


def possessive(tok: str) -> bool:
    return tok[-2:] in ("'s", "’s", "'S", "’S")


def base(tok: str) -> str:
    """The token without a possessive `'s`."""
    return tok[:-2] if possessive(tok) else tok


def _tokens(text: str) -> list[Token]:
    """The letter tokens of `text`, except those inside e-mail and web addresses."""
    tokens = [Token(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    if not ("@" in text or "/" in text or "www" in text.lower()):
        return tokens
    chunks = [(m.start(), m.end()) for m in _ADDRESS_CHUNK.finditer(text)]
    if not chunks:
        return tokens
    kept, c = [], 0
    for t in tokens:  # both lists are in text order: one merge
        while c < len(chunks) and chunks[c][1] <= t.start:
            c += 1
        if c < len(chunks) and chunks[c][0] < t.end:
            continue
        kept.append(t)
    return kept


class Scan:
    """One text, its tokens, and which tokens a cued name has taken (`used`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.caps_text = not any(ch.islower() for ch in text)
        self.lower_text = not any(ch.isupper() for ch in text)
        self.used = [False] * len(self.tokens)

    def gap(self, i: int) -> str:
        """The text between token i and token i + 1."""
        end = self.tokens[i + 1].start if i + 1 < len(self.tokens) else len(self.text)
        return self.text[self.tokens[i].end:end]

    def gap_is(self, i: int, pattern: re.Pattern[str]) -> bool:
        return i + 1 < len(self.tokens) and pattern.fullmatch(self.gap(i)) is not None

    def char_before(self, i: int) -> str:
        """The last character before token i that is not a space or tab ('' at the start)."""
        p = self.tokens[i].start
        while p and self.text[p - 1] in " \t":
            p -= 1  # each run of spaces is walked for the one token after it: linear overall
        return self.text[p - 1] if p else ""

    def upper(self, i: int) -> str:
        return token_key(base(self.tokens[i].text))

    def words(self, i: int, length: int) -> tuple[str, ...]:
        return tuple(base(self.tokens[k].text).lower().replace("’", "'") for k in range(i, i + length))

    def name_end(self, last: int) -> int:
        """Where a name ending at token `last` ends (before a possessive `'s`)."""
        tok = self.tokens[last]
        return tok.end - 2 if possessive(tok.text) else tok.end

    def staff_after(self, last: int) -> bool:
        """A credential follows token `last` (`John Carter, MD`)."""
        return _CREDENTIAL.match(self.text, self.tokens[last].end) is not None

    def after_name(self, last: int) -> bool:
        """Whether what follows token `last` makes the name an eponym, a thing or a place."""
        tok = self.tokens[last].text
        key = self.upper(last)
        if possessive(tok) and key in EPONYMS:
            return True
        if key in MONTHS and DIGIT_AFTER.match(self.text, self.tokens[last].end):
            return True
        if self.gap_is(last, _CONTEXT_GAP) and self.tokens[last + 1].text.lower() in EPONYM_CONTEXT:
            return True
        return self._institution_after(last)

    def _institution_after(self, last: int) -> bool:
        """`Henry Ford Hospital`, `Beth Israel Deaconess Medical Center`: up to three capitalised
        words after token `last`, then an institution word."""
        k = last
        while k + 1 < len(self.tokens) and k < last + 3 and self.gap_is(k, NAME_GAP):
            nxt = self.tokens[k + 1].text
            nkey = token_key(nxt)
            if shape(nxt) not in ("title", "caps") or nkey in STOP:
                break
            if nkey in INSTITUTION:
                return True
            if lookup(nxt).word >= COMMON:
                break  # `SON JOAN NEGRI WILL DRIVE ...`: a sentence goes on, no institution
            k += 1
        return False

    def listed_name(self, i: int) -> bool:
        """Token i (or the token after an initial) is a listed name that is no everyday word."""
        if shape(self.tokens[i].text) == "initial" and i + 1 < len(self.tokens):
            i += 1
        info = lookup(base(self.tokens[i].text))
        return listed(info) and namelike(info) and self.upper(i) not in NOT_ALONE

    def full_name(self, start: int, last: int) -> bool:
        """A listed first name, then a listed surname (not an everyday or clinical word)."""
        if last <= start or shape(self.tokens[start].text) == "initial":
            return False
        first, sur = lookup(base(self.tokens[start].text)), lookup(base(self.tokens[last].text))
        skey = self.upper(last)
        return bool(first.first and first.word < COMMON and sur.surname and namelike(sur)
                    and skey not in NOT_ALONE and self.upper(start) not in CLINICAL_WORDS)

    def cue_at(self, i: int) -> tuple[str, int] | None:
        """The longest cue starting at token i: (kind, number of tokens)."""
        words: list[str] = []
        best: tuple[str, int] | None = None
        for k in range(CUE_LENGTH):
            j = i + k
            if j >= len(self.tokens):
                break
            if k and not self.gap_is(j - 1, _CUE_WORD_GAP):
                break
            word = base(self.tokens[j].text).lower().replace("’", "'")
            words.append(word)
            kind = CUES.get(tuple(words))
            if kind:
                best = (kind, k + 1)
        # `c/o` is one cue in two tokens
        if best is None and self.tokens[i].text.lower() == "c" and self.text.startswith("/o", self.tokens[i].end) \
                and i + 1 < len(self.tokens) and self.tokens[i + 1].text.lower() == "o":
            best = ("strong", 2)
        return best
