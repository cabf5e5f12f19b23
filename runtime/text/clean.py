"""Free text × collected PHI → the same text without the PHI tokens, every other word kept.

In: the texts of one file that `clean` rules select (one batch), the file's `PhiSet`, the rule's
matchers and the date offset. Out: cleaned texts and, per text, the hits as (PHI kind, matcher) —
never the PHI value itself. Matchers, in order:
  regex   built-in patterns (ssn, phone, email, mrn, date) or the rule's own /regex/;
  dates   dates found in the text are shifted by the patient's offset in their own layout, or
          removed (`dates remove`);
  detect  the rule's free-text detectors (runtime/text/detectors: address, person, phone, ...),
          PHI no header holds; each detection has a confidence, and the doubtful ones are
          returned for review;
  exact   a word (or its digits) equal to a collected word;
  fuzzy   a word whose similarity to a collected name/place word reaches the threshold,
          scored for the distinct words of the batch against the PHI words of a length that can
          reach it, with `rapidfuzz.process.cdist` (OCR-like and typing variants: `GALOWAY`, `Rebeca`).

Time is linear in the length of the texts: every pattern scans a text once (a rule's own /regex/
scans it under `limits.regex_seconds`, or raises `RegexTooSlow` naming the rule), a match is
checked against earlier ones in time proportional to its own length, and fuzzy scoring compares
at most `limits.phi_words` PHI words of at most 64 letters with each distinct word. A text longer
than `limits.clean_chars`, or a PHI set with more than `limits.phi_words` words, raises
`LimitExceeded` (the file is quarantined, not cut short).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import regex
from rapidfuzz import fuzz, process

from deidc.compiler.patterns import BUILTIN_PATTERNS, compiled
from deidc.runtime import limits
from deidc.runtime.limits import LimitExceeded
from deidc.runtime.text.detectors import APPLY_AT, DEFAULT_REVIEW_THRESHOLD, REVIEW_FLOOR
from deidc.runtime.text.detectors.registry import FINDERS
from deidc.runtime.text.phi import FUZZY_LENGTHS, PhiSet, normalise_word
from deidc.runtime.text.user_regex import RegexTooSlow, search_seconds

# Fuzzy scores are computed in blocks of at most this many (word, PHI word) pairs (bytes of memory).
_SCORE_BLOCK = 1 << 22

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
         (regex.compile(r"[ \t]{2,}"), " "), (regex.compile(r"(?<![ \t])[ \t]+([,;:.)])"), r"\1"),
         (regex.compile(r"([,;:])\s*(?=[,;:)]|$)"), "")]


@dataclass(frozen=True)
class CleanSpec:
    fuzzy: int | None  # threshold 0-100, or None: no fuzzy matching
    patterns: tuple[str, ...]  # built-in names or /regex/flags
    dates: str | None  # "shift", "remove", or None: dates are not looked for
    detectors: tuple[str, ...] = ()  # free-text detectors (runtime/text/detectors), in rule order
    review_below: float = DEFAULT_REVIEW_THRESHOLD  # detections less confident than this are reviewed


class Review(NamedTuple):
    """A detection a curator should look at: less confident than the review threshold, applied
    (removed) or not. `words` is the original text: review.jsonl is kept like the mappings."""

    detector: str
    confidence: float
    words: str
    applied: bool


# A run of digits with the separators people write numbers with: `617 555 0142`, `(617) 555-0142`.
_DIGIT_RUN = regex.compile(r"(?<![\w])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")


@lru_cache(maxsize=None)  # a rule's patterns, compiled once per process
def _compile(pattern: str) -> regex.Pattern:
    if pattern in BUILTIN_PATTERNS:
        return regex.compile(BUILTIN_PATTERNS[pattern])
    body, _, flags = pattern[1:].rpartition("/")  # /re/flags as written
    return compiled(body, flags)


def _shift_date(text: str, layout: str, seconds: int) -> str:
    date = dt.datetime.strptime(text.replace(".", "") if "%b" in layout else text, layout)
    moved = date + dt.timedelta(days=seconds // 86400)
    out = moved.strftime(layout)
    if layout in ("%m/%d/%Y", "%d.%m.%Y") and not regex.match(r"\d\d", text):  # keep unpadded forms
        out = out.lstrip("0").replace("/0", "/").replace(".0", ".")
    return out


def check_clean_limits(texts: Iterable[str], phi: PhiSet, where: str = "a text value",
                       phi_name: str = "the collected PHI") -> None:
    """Raise `LimitExceeded` when a text is longer than `clean` reads, or the PHI set holds more
    distinct words than it compares. `where` names the attribute (its tag path, never a value)."""
    bounds = limits.current()
    longest = max((len(text) for text in texts), default=0)
    if longest > bounds.clean_chars:
        raise LimitExceeded(
            f"{where}: a text of {longest:,} characters is longer than the {bounds.clean_chars:,} that "
            f"`clean` reads (limit clean_chars); raise it with --max-clean-chars")
    if len(phi.words) > bounds.phi_words:
        raise LimitExceeded(
            f"{where}: {phi_name} holds {len(phi.words):,} distinct words for this patient, more than the "
            f"{bounds.phi_words:,} that `clean` compares (limit phi_words); raise it with --max-phi-words")


def check_collected(values: Iterable[tuple[str, str]], phi_name: str) -> None:
    """Raise `LimitExceeded` when a value collected as PHI is longer than `clean` reads: it would
    be matched against every text of every file of its patient (a 10 MB value stalled a run)."""
    bound = limits.current().clean_chars
    longest = max((len(text) for _, text in values), default=0)
    if longest > bound:
        raise LimitExceeded(
            f"a value collected as {phi_name} has {longest:,} characters, more than the {bound:,} that "
            f"`clean` reads (limit clean_chars); raise it with --max-clean-chars")


def clean_texts(texts: list[str], phi: PhiSet, spec: CleanSpec, shift_seconds: int, workers: int = 1,
                rule: str | None = None, reviews: list[list[Review]] | None = None,
                ) -> list[tuple[str, list[tuple[str, str]]]]:
    """Clean a batch of texts; return (new text, [(kind, matcher), ...]) for each. `workers`:
    threads for the fuzzy scoring (rapidfuzz cdist; -1 = all cores). `rule`: where the `clean`
    rule is written (file:line), for the reasons. `reviews`, when given, receives per text the
    detections to review. Raises `LimitExceeded` beyond the limits of `check_clean_limits`, or
    `RegexTooSlow` when a rule's /regex/ runs too long on a text."""
    check_clean_limits(texts, phi)
    edits = [_Edits(len(text)) for text in texts]
    hits: list[list[tuple[str, str]]] = [[] for _ in texts]
    for i, text in enumerate(texts):
        _find_patterns(text, spec, shift_seconds, edits[i], hits[i], rule)
        found = _find_detections(text, spec, edits[i], hits[i])
        if reviews is not None:
            reviews.append(found)
    _find_words(texts, phi, spec, edits, hits, workers)
    return [(_apply(text, e.items), h) for text, e, h in zip(texts, edits, hits, strict=True)]


class _Edits:
    """The edits of one text, (start, end, replacement), none overlapping another, and the
    characters they cover: whether a new match is free is known in time proportional to its own
    length (checking it against every earlier edit made cleaning quadratic). Two edits overlap when
    each starts before the other ends, so an empty edit (a /regex/ may match nothing) blocks a
    match around it, and an empty match is blocked strictly inside an edit."""

    __slots__ = ("items", "covered", "starts", "points")

    def __init__(self, length: int) -> None:
        self.items: list[tuple[int, int, str]] = []
        self.covered = bytearray(length + 1)  # 1: the character is inside a non-empty edit
        self.starts = bytearray(length + 1)  # 1: a non-empty edit starts here
        self.points: bytearray | None = None  # 1: an empty edit is here

    def free(self, start: int, end: int) -> bool:
        if start < end:
            return self.covered.find(1, start, end) < 0 and (
                self.points is None or self.points.find(1, start + 1, end) < 0)
        inside = start > 0 and self.covered[start - 1] and self.covered[start] and not self.starts[start]
        return not inside

    def add(self, start: int, end: int, replacement: str) -> None:
        self.items.append((start, end, replacement))
        if start < end:
            self.covered[start:end] = b"\x01" * (end - start)
            self.starts[start] = 1
        else:
            if self.points is None:
                self.points = bytearray(len(self.covered))
            self.points[start] = 1


def _find_patterns(text, spec: CleanSpec, seconds, edits: _Edits, hits, rule: str | None = None) -> None:
    if spec.dates:
        for pattern, layout in _DATES:
            for m in pattern.finditer(text):
                if not edits.free(m.start(), m.end()):
                    continue
                try:
                    new = _shift_date(m.group(), layout, seconds) if spec.dates == "shift" else ""
                except ValueError:
                    continue
                edits.add(m.start(), m.end(), new)
                hits.append(("date", "dates " + spec.dates))
    for name in spec.patterns:
        builtin = name in BUILTIN_PATTERNS  # ours, linear: no timeout
        timeout = None if builtin else search_seconds()  # the whole scan of the text, all matches
        try:
            for m in _compile(name).finditer(text, timeout=timeout):
                if edits.free(m.start(), m.end()):
                    edits.add(m.start(), m.end(), "")
                    hits.append((name if builtin else "pattern", "regex"))
        except TimeoutError:
            where = f" (rule {rule})" if rule else ""
            raise RegexTooSlow(f"the pattern {name} of `clean`{where}", len(text), timeout) from None


def _find_detections(text: str, spec: CleanSpec, edits: _Edits, hits: list[tuple[str, str]]) -> list[Review]:
    """Each detector of the rule, in order: what reaches APPLY_AT is removed (unless an earlier
    match already covers part of it); what is less confident than the review threshold (and at
    least REVIEW_FLOOR) is returned for review, applied or not."""
    reviews = []
    for name in spec.detectors:
        for found in FINDERS[name](text):
            applied = found.confidence >= APPLY_AT and edits.free(found.start, found.end)
            if applied:
                edits.add(found.start, found.end, "")
                hits.append((name, "detect"))
            if REVIEW_FLOOR <= found.confidence < spec.review_below:
                reviews.append(Review(name, round(found.confidence, 2), text[found.start:found.end], applied))
    return reviews


def _find_words(texts, phi: PhiSet, spec: CleanSpec, edits: list[_Edits], hits, workers: int = 1) -> None:
    candidates: list[tuple[int, int, int, str]] = []  # text index, start, end, normalised word
    for i, text in enumerate(texts):
        free, add = edits[i].free, edits[i].add
        for start, end in phi.find_spelled_dates(text):  # a collected date spelled out: `Jul 02, 2017`
            if free(start, end):
                add(start, end, "")
                hits[i].append(("date", "exact"))
        for m in _DIGIT_RUN.finditer(text):  # a collected number written with separators
            kind = phi.digits.get("".join(ch for ch in m.group() if ch.isdigit()))
            if kind and free(m.start(), m.end()):
                add(m.start(), m.end(), "")
                hits[i].append((kind, "exact"))
        for m in _WORD.finditer(text):
            if not free(m.start(), m.end()):
                continue
            word = normalise_word(m.group())
            kind = phi.words.get(word) or _digit_kind(phi, word)
            if kind:
                add(m.start(), m.end(), "")
                hits[i].append((kind, "exact"))
                continue
            # a word made of parts (`GALLOWAY^REBECCA`, `Galloway,Rebecca`): check each part
            for sub in _SUBWORD.finditer(m.group()):
                start, end = m.start() + sub.start(), m.start() + sub.end()
                part = normalise_word(sub.group())
                kind = phi.words.get(part) or _digit_kind(phi, part)
                if kind and kind != "initials":
                    add(start, end, "")
                    hits[i].append((kind, "exact"))
                elif part.isalpha() and len(part) in FUZZY_LENGTHS:
                    candidates.append((i, start, end, part))
    if spec.fuzzy is None or not candidates or not phi.fuzzy:
        return
    best = best_fuzzy_matches({c[3] for c in candidates}, phi.fuzzy, spec.fuzzy, workers)
    for i, start, end, word in candidates:
        if word in best and edits[i].free(start, end):
            edits[i].add(start, end, "")
            hits[i].append((phi.words[phi.fuzzy[best[word]]], f"fuzzy {spec.fuzzy}"))


def best_fuzzy_matches(words: Iterable[str], choices: list[str], threshold: int, workers: int = 1) -> dict[str, int]:
    """Each word whose best `fuzz.ratio` score (rounded to an integer) against `choices` reaches
    `threshold` → the index of that best choice (the first one among equal scores).

    Only pairs that can reach the threshold are scored: the Indel distance of two words is at
    least the difference of their lengths, so ratio <= 200 * shorter / (sum of lengths), and a
    pair whose bound is below threshold - 1 (rounding) is never the best match that counts."""
    by_length: dict[int, list[int]] = {}
    for index, choice in enumerate(choices):
        by_length.setdefault(len(choice), []).append(index)
    groups: dict[int, list[str]] = {}
    for word in sorted(words):  # sorted: the same blocks, whatever the order of the batch
        groups.setdefault(len(word), []).append(word)
    floor = max(threshold - 1, 0)  # cdist's cutoff compares unrounded scores
    best: dict[str, int] = {}
    for length, group in sorted(groups.items()):
        columns = sorted(index for other, indices in by_length.items()
                         if 200 * min(length, other) >= floor * (length + other) for index in indices)
        if not columns:
            continue
        column_words = [choices[c] for c in columns]
        rows = max(1, _SCORE_BLOCK // len(columns))
        for begin in range(0, len(group), rows):
            block = group[begin:begin + rows]
            scores = process.cdist(block, column_words, scorer=fuzz.ratio, dtype=np.uint8, workers=workers,
                                   score_cutoff=floor)
            top, which = scores.max(axis=1), scores.argmax(axis=1)
            for word, score, column in zip(block, top.tolist(), which.tolist(), strict=True):
                if score >= threshold:
                    best[word] = columns[column]
    return best


def _digit_kind(phi: PhiSet, word: str) -> str | None:
    if word.isalpha() or not any(ch.isdigit() for ch in word):  # isalpha: the common case, at C speed
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
