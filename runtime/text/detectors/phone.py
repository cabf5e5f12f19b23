"""Telephone and fax numbers, national (US) and international, in free text.

What it finds: numbers the `phonenumbers` matcher (phonenumberslite, Google's libphonenumber
metadata) accepts as *valid* for the US or, written with a `+`, `00` or `011` prefix, for any
country: `(541) 555-0123`, `541.555.0123`, `1-541-555-0123`, `+44 20 7946 0958`,
`0049 30 1234567`, `+33 1 23 45 67 89`, with an extension (`ext. 123`, `x45`) when written.
The span is the number as written, extension included; a cue word before it is kept.

Why a library and not a pattern: validity (area codes, number lengths per country) is what
keeps blood pressures (`120/80`), dates, measurements, UIDs, times and vertebral levels out; the
matcher checks it with each country's numbering plan, offline (no geocoding or carrier data).

What it does not trust: a valid US number with no separator (`5415550123`) is also what an
accession number or MRN looks like, and a number grouped unlike any real layout
(`2019-0304-12`) is more likely a code. Both are only listed for review unless a cue word
(tel, phone, fax, cell, mobile, pager, call, contact...) stands just before them. A number that is
part of a longer run of digits and dots (a UID component) is not a phone number.

Confidence:
- 0.95  `+`/`00`/`011` international form, or a well-grouped number after a cue word
- 0.85  a well-grouped national number with separators or parentheses: `(541) 555-0123`
- 0.8   digits only, but after a cue word: `tel 5415550123`
- 0.7   oddly grouped, after a cue word
- 0.4   oddly grouped, no cue (review only)
- 0.3   digits only, no cue (review only: an accession number looks the same)
"""
from __future__ import annotations

from collections.abc import Iterator

import regex
from phonenumbers import Leniency, PhoneNumberMatcher

from deidc.runtime.text.detectors import Detection

REGION = "US"  # national numbers are read as US ones; any country's number is found with `+`

# `0049 ...` / `011 44 ...`: the dialling prefixes written instead of `+`. They are replaced by a
# `+` of the same length (`0049` -> ` +49`) so the matcher reads them and offsets do not move.
_DIAL_PREFIX = regex.compile(r"(?<![\w.+/-])(?:00(?=[1-9])|011[ ]?(?=[1-9]))")

# A cue word at most two words before the number (`tel:`, `Phone no.`, `fax # `, `call her at`).
_CUE = regex.compile(
    r"(?i)\b(?:tel(?:e(?:phone)?)?|ph(?:one)?|phone\s?(?:no|number|#)|fax|facsimile|cell(?:phone)?|"
    r"mob(?:ile)?|pager|beeper|bleep|call(?:ed|ing|back)?|contact(?:ed)?|text(?:ed)?|reach(?:ed)?|dial(?:ed)?|"
    r"home|work|office|daytime|evening)\b[\W_]{0,4}(?:[^\W\d_]{1,12}[\W_]{1,4}){0,2}$")
_CUE_WINDOW = 50

_EXTENSION = regex.compile(r"(?i)(?:[,;]?\s*(?:ext|extension|x|#)\.?\s*\d{1,6})$")


def _dialling_form(text: str) -> tuple[str, dict[int, int]]:
    """`text` with `00`/`011` dialling prefixes written as `+` (same length), and where each such
    `+` stands → where its prefix starts (the span is the number as written)."""
    prefixes = {m.end() - 1: m.start() for m in _DIAL_PREFIX.finditer(text)}
    return _DIAL_PREFIX.sub(lambda m: " " * (len(m.group()) - 1) + "+", text), prefixes


def _inside_longer_run(text: str, start: int, end: int) -> bool:
    """True when the number continues a run of digits, dots or letters (UIDs, codes)."""
    before = text[start - 1] if start else ""
    if before.isalnum() or before == "_":
        return True
    if before in ".-/" and start >= 2 and text[start - 2].isdigit():
        return True
    after = text[end] if end < len(text) else ""
    if after.isalnum() or after == "_":
        return True
    return after in ".-/" and end + 1 < len(text) and text[end + 1].isdigit()


def _well_grouped(number: str) -> bool:
    """True when `number` (one VALID match) is also grouped as its country writes numbers."""
    strict = PhoneNumberMatcher(number, REGION, leniency=Leniency.STRICT_GROUPING)
    return any(m.start == 0 and m.end == len(number) for m in strict)


def find(text: str) -> Iterator[Detection]:
    """Telephone numbers in `text` (see the module docstring for the confidence levels)."""
    if sum(ch.isdigit() for ch in text) < 7:  # no phone number is shorter
        return
    readable, prefixes = _dialling_form(text)
    tries = len(text) + 1  # the matcher stops after 65,535 candidates by default
    for match in PhoneNumberMatcher(readable, REGION, leniency=Leniency.VALID, max_tries=tries):
        start, end = match.start, match.end
        grouped = _well_grouped(readable[start:end])
        start = prefixes.get(start, start)
        if _inside_longer_run(text, start, end):
            continue
        written = text[start:end]
        number = _EXTENSION.sub("", written)
        international = readable[match.start] == "+"
        formatted = international or any(c in number for c in " -.()/")
        cue = _CUE.search(text[max(0, start - _CUE_WINDOW):start]) is not None
        if international and grouped:
            confidence = 0.95
        elif not grouped:
            confidence = 0.7 if cue else 0.4
        elif formatted:
            confidence = 0.95 if cue else 0.85
        else:
            confidence = 0.8 if cue else 0.3
        yield Detection(start, end, confidence)

