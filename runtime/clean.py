"""Free text × collected PHI → the same text without the PHI tokens, every other word kept.

In: the texts of one file that `clean` rules select (one batch), the file's `PhiSet`, the rule's
matchers and the date offset. Out: cleaned texts and, per text, the hits as (PHI kind, matcher) —
never the PHI value itself. Matchers, in order:
  regex   built-in patterns (ssn, phone, email, mrn, date) or the rule's own /regex/;
  dates   dates found in the text are shifted by the patient's offset in their own layout, or
          removed (`dates remove`);
  exact   a word (or its digits) equal to a collected word;
  fuzzy   a word whose similarity to a collected name/place word reaches the threshold,
          scored for all words of the batch against all PHI words at once with
          `rapidfuzz.process.cdist` (OCR-like and typing variants: `GALOWAY`, `Rebeca`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import regex
from rapidfuzz import fuzz, process

from deidc.runtime.phi import PhiSet, normalise

BUILTIN_PATTERNS = {
    "ssn": r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)",
    "phone": r"(?<![\w-])(?:\+?1[-. ]?)?\(?\d{3}\)?[-. ]?\d{3}[-. ]\d{4}(?![\w-])",
    "email": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "mrn": r"(?<![\w.])\d{7,}(?![\w.])",
    # A capitalised name right after a word that introduces a person the record is not about:
    # relatives and contacts (HIPAA Safe Harbor counts them), and the patient named in prose.
    # (Staff named with a title — `Dr. Mark Lee` — are not PHI of the patient and stay.)
    "person": (r"(?<=\b(?:[Cc]ontact|[Dd]iscussed with|[Ss]poke (?:with|to)|[Ww]ife|[Hh]usband|[Mm]other|"
               r"[Ff]ather|[Ss]on|[Dd]aughter|[Ss]pouse|[Ss]ister|[Bb]rother|[Gg]uardian|[Ff]riend|"
               r"[Nn]eighbou?r):? )(?!(?:Dr|Mr|Mrs|Ms|Prof)\b)[A-Z][a-z]+(?: [A-Z][a-z]+)?"),
}
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
MONTHS_SHORT = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
# date layouts found in free text: (regex, strptime layout)
DATE_PATTERNS = (
    (r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)", "%Y%m%d"),
    (r"(?<!\d)(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])/(?:19|20)\d{2}(?!\d)", "%m/%d/%Y"),
    (r"(?<!\d)(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(?:19|20)\d{2}(?!\d)", "%d.%m.%Y"),
    (r"(?<!\d)(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?!\d)", "%Y-%m-%d"),
    (rf"(?i)\b(?:{MONTHS}) \d{{1,2}}, (?:19|20)\d{{2}}\b", "%B %d, %Y"),
    (rf"(?i)\b(?:{MONTHS_SHORT})\.? \d{{1,2}}, (?:19|20)\d{{2}}\b", "%b %d, %Y"),
    (rf"(?i)\b\d{{1,2}} (?:{MONTHS}) (?:19|20)\d{{2}}\b", "%d %B %Y"),
    (rf"(?i)\b\d{{1,2}} (?:{MONTHS_SHORT})\.? (?:19|20)\d{{2}}\b", "%d %b %Y"),
)
_DATES = [(regex.compile(p), layout) for p, layout in DATE_PATTERNS]
_WORD = regex.compile(r"[\w][\w'@.^/+-]*[\w]|[\w]")
_SUBWORD = regex.compile(r"[^\W_]+")
_TIDY = [(regex.compile(r"\(\s*\)|\[\s*\]"), ""), (regex.compile(r"(?<!\w)\^|\^(?!\w)"), " "),
         (regex.compile(r"[ \t]{2,}"), " "), (regex.compile(r"[ \t]+([,;:.)])"), r"\1"),
         (regex.compile(r"([,;:])\s*(?=[,;:)]|$)"), "")]


@dataclass(frozen=True)
class CleanSpec:
    fuzzy: int | None  # threshold 0-100, or None: no fuzzy matching
    patterns: tuple[str, ...]  # built-in names or /regex/flags
    dates: str | None  # "shift", "remove", or None: dates are not looked for


_FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE}
# A run of digits with the separators people write numbers with: `617 555 0142`, `(617) 555-0142`.
_DIGIT_RUN = regex.compile(r"(?<![\w])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")


@lru_cache(maxsize=None)  # a rule's patterns, compiled once per process
def _compile(pattern: str) -> regex.Pattern:
    if pattern in BUILTIN_PATTERNS:
        return regex.compile(BUILTIN_PATTERNS[pattern])
    body, _, flags = pattern[1:].rpartition("/")
    value = 0
    for flag in flags:
        value |= _FLAGS[flag]
    return regex.compile(body, value)


def _shift_date(text: str, layout: str, seconds: int) -> str:
    date = dt.datetime.strptime(text.replace(".", "") if "%b" in layout else text, layout)
    moved = date + dt.timedelta(days=seconds // 86400)
    out = moved.strftime(layout)
    if layout in ("%m/%d/%Y", "%d.%m.%Y") and not regex.match(r"\d\d", text):  # keep unpadded forms
        out = out.lstrip("0").replace("/0", "/").replace(".0", ".")
    return out


def clean_texts(texts: list[str], phi: PhiSet, spec: CleanSpec, shift_seconds: int, workers: int = 1
                ) -> list[tuple[str, list[tuple[str, str]]]]:
    """Clean a batch of texts; return (new text, [(kind, matcher), ...]) for each. `workers`:
    threads for the fuzzy scoring (rapidfuzz cdist; -1 = all cores)."""
    edits: list[list[tuple[int, int, str]]] = [[] for _ in texts]  # (start, end, replacement)
    hits: list[list[tuple[str, str]]] = [[] for _ in texts]
    for i, text in enumerate(texts):
        _find_patterns(text, spec, shift_seconds, edits[i], hits[i])
    _find_words(texts, phi, spec, edits, hits, workers)
    return [(_apply(text, e), h) for text, e, h in zip(texts, edits, hits)]


def _free(edits: list[tuple[int, int, str]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e, _ in edits)


def _find_patterns(text, spec: CleanSpec, seconds, edits, hits) -> None:
    if spec.dates:
        for pattern, layout in _DATES:
            for m in pattern.finditer(text):
                if not _free(edits, m.start(), m.end()):
                    continue
                try:
                    new = _shift_date(m.group(), layout, seconds) if spec.dates == "shift" else ""
                except ValueError:
                    continue
                edits.append((m.start(), m.end(), new))
                hits.append(("date", "dates " + spec.dates))
    for name in spec.patterns:
        for m in _compile(name).finditer(text):
            if _free(edits, m.start(), m.end()):
                edits.append((m.start(), m.end(), ""))
                hits.append((name if name in BUILTIN_PATTERNS else "pattern", "regex"))


def _find_words(texts, phi: PhiSet, spec: CleanSpec, edits, hits, workers: int = 1) -> None:
    candidates: list[tuple[int, int, int, str]] = []  # text index, start, end, normalised word
    spelled = phi.spelled_dates
    for i, text in enumerate(texts):
        for pattern in spelled:  # a collected date spelled out: `Jul 02, 2017`
            for m in pattern.finditer(text):
                if _free(edits[i], m.start(), m.end()):
                    edits[i].append((m.start(), m.end(), ""))
                    hits[i].append(("date", "exact"))
        for m in _DIGIT_RUN.finditer(text):  # a collected number written with separators
            kind = phi.digits.get("".join(ch for ch in m.group() if ch.isdigit()))
            if kind and _free(edits[i], m.start(), m.end()):
                edits[i].append((m.start(), m.end(), ""))
                hits[i].append((kind, "exact"))
        for m in _WORD.finditer(text):
            if not _free(edits[i], m.start(), m.end()):
                continue
            word = normalise(m.group())
            kind = phi.words.get(word) or _digit_kind(phi, word)
            if kind:
                edits[i].append((m.start(), m.end(), ""))
                hits[i].append((kind, "exact"))
                continue
            # a word made of parts (`GALLOWAY^REBECCA`, `Galloway,Rebecca`): check each part
            for sub in _SUBWORD.finditer(m.group()):
                start, end = m.start() + sub.start(), m.start() + sub.end()
                part = normalise(sub.group())
                kind = phi.words.get(part) or _digit_kind(phi, part)
                if kind and kind != "initials":
                    edits[i].append((start, end, ""))
                    hits[i].append((kind, "exact"))
                elif part.isalpha() and len(part) >= 4:
                    candidates.append((i, start, end, part))
    if spec.fuzzy is None or not candidates or not phi.fuzzy:
        return
    scores = process.cdist([c[3] for c in candidates], phi.fuzzy, scorer=fuzz.ratio, dtype=np.uint8, workers=workers)
    best, which = scores.max(axis=1), scores.argmax(axis=1)
    for (i, start, end, _), score, column in zip(candidates, best.tolist(), which.tolist()):
        if score >= spec.fuzzy and _free(edits[i], start, end):
            edits[i].append((start, end, ""))
            hits[i].append((phi.words[phi.fuzzy[column]], f"fuzzy {spec.fuzzy}"))


def _digit_kind(phi: PhiSet, word: str) -> str | None:
    if not any(ch.isdigit() for ch in word):
        return None
    digits = "".join(ch for ch in word if ch.isdigit())
    if len(digits) < 4 or len(digits) < len(word) - 3:  # mostly letters: not an identifier
        return None
    return phi.digits.get(digits)


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    if not edits:
        return text
    out, last = [], 0
    for start, end, replacement in sorted(edits):
        out.append(text[last:start])
        out.append(replacement)
        last = end
    out.append(text[last:])
    cleaned = "".join(out)
    for pattern, repl in _TIDY:
        cleaned = pattern.sub(repl, cleaned)
    return cleaned.strip(" ,;:-^")
