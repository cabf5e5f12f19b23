"""Telephone and fax numbers, national (US) and international, in free text.

What it finds: numbers the `phonenumbers` matcher (phonenumberslite, Google's libphonenumber
metadata) accepts as *valid* for the US or, written with a `+`, `00` or `011` prefix, for any
country: `(541) 555-0123`, `541.555.0123`, `1-541-555-0123`, `+44 20 7946 0958`,
`0049 30 1234567`, `+33 1 23 45 67 89`, with an extension (`ext. 123`, `x45`) when written.
The span is the number as written, extension included; a cue word before it is kept.
Other countries' national numbers, written with their trunk prefix `0` (`020 7946 0958`,
`07700 900123`, `(02) 9374 4000`, `01 23 45 67 89`, `030 1234567`), are found when valid for one of
NATIONAL_REGIONS (and, with no cue, grouped as that country groups them).

Why a library and not a pattern: validity (area codes, number lengths per country) is what
keeps blood pressures (`120/80`), dates, measurements, UIDs, times and vertebral levels out; the
matcher checks it with each country's numbering plan, offline (no geocoding or carrier data).

What it does not trust: a valid US number with no separator (`5415550123`) is also what an
accession number or MRN looks like, and a number grouped unlike any real layout
(`2019-0304-12`) is more likely a code. Both are only listed for review unless a cue word
(tel, phone, fax, cell, mobile, pager, call, contact, number, line, emergency...) stands just before
them, a `(home)`/`(mobile)` just after, or an e-mail address offered as the alternative (`jo@x.org or
5415550123`). A number that is part of a longer run of digits and dots (a UID component) is not a
phone number, nor one right after an identifier label (`NHS number 943 476 5919`, `MRN 5415550123`
are for the `id` detector; at most 0.3 here), nor a date (`01 02 2019`) or a ZIP+4 (`02035-6693`).

Confidence:
- 0.95  `+`/`00`/`011` international form, or a well-grouped number after a cue word
- 0.85  a well-grouped national number with separators or parentheses: `(541) 555-0123`
- 0.8   digits only, but after a cue word: `tel 5415550123`
- 0.7   oddly grouped, after a cue word
- 0.4   oddly grouped, no cue (review only)
- 0.3   digits only, no cue (review only: an accession number looks the same); any national
        number right after an identifier label
- national numbers (trunk prefix `0`): 0.95 grouped with a cue, 0.85 grouped with no cue (10+
        digits), 0.8 digits only with a cue, 0.7 oddly grouped with a cue, else review only
"""
from __future__ import annotations

from collections.abc import Iterator

import regex
from phonenumbers import Leniency, NumberParseException, PhoneNumberMatcher, is_valid_number, parse

from deidc.runtime.text.detectors import Detection

REGION = "US"  # national numbers are read as US ones; any country's number is found with `+`

# `0049 ...` / `011 44 ...`: the dialling prefixes written instead of `+`. They are replaced by a
# `+` of the same length (`0049` -> ` +49`) so the matcher reads them and offsets do not move.
# Not within a number already under way (`+1 409 403 0039`: the `00` there is no prefix).
_DIAL_PREFIX = regex.compile(r"(?<![\w.+/-])(?<!\d[ \t.)(-]{1,3})(?:00(?=[1-9])|011[ ]?(?=[1-9]))")

# A cue word at most two words before the number (`tel:`, `Phone no.`, `fax # `, `call her at`).
_CUE = regex.compile(
    r"(?i)\b(?:tel(?:e(?:phone)?)?|ph(?:one)?|phone\s?(?:no|number|#)|fax|facsimile|cell(?:phone)?|"
    r"mob(?:ile)?|pager|beeper|bleep|call(?:ed|ing|back|-back)?|contact(?:ed)?|text(?:ed)?|reach(?:ed)?|"
    r"dial(?:ed)?|sms|whatsapp|voicemail|landline|hotline|switchboard|helpline|line|number|no|"
    r"emergency|home|work|office|daytime|evening)\b[\W_]{0,4}(?:[^\W\d_]{1,20}[\W_]{1,4}){0,4}$")
# ... or just after it: `6412014947 (home)`, `020 8652 4501 (mobile)`.
_CUE_AFTER = regex.compile(
    r"(?i)[ \t]{0,2}[(\[-]?[ \t]{0,2}(?:home|mobile|cell|work|office|landline|fax|pager|tel|phone|daytime|"
    r"evening)\b")
# ... or an e-mail address offered as the other way to reach someone: `jo@x.org or 5415550123`.
_AFTER_EMAIL = regex.compile(r"(?i)@[\w-]+(?:\.[\w-]+)+[ \t]{1,2}(?:or|/)[ \t]{1,2}$")
# An identifier label right before the number makes it that identifier, whatever the cue: `NHS
# number 943 476 5919`, `MRN 5415550123`, `accession no. 2125550199` are for the `id` detector.
_ID_LABEL = regex.compile(
    r"(?i)\b(?:mrn|mr|nhs|ssn|ss|acc|accn|accession|acct|account|claim|record|chart|case|order|policy|"
    r"member|subscriber|group|medicare|medicaid|insurance|specimen|requisition|req|encounter|visit|fin|"
    r"csn|serial|licen[cs]e|passport|ohip|phn|hin|npi|id|identifier|patient|pt)\b[\W_]{0,4}"
    r"(?:(?:no|nos|nr|num|number|id)\b[\W_]{0,4})?$")
_CUE_WINDOW = 50

_EXTENSION = regex.compile(r"(?i)(?:[,;]?\s*(?:ext|extension|x|#)\.?\s*\d{1,6})$")
# an extension the matcher left out (`531.295.8272 x2073`, `07239 668813 ext 901`)
_EXTENSION_AFTER = regex.compile(r"(?i)[ \t]{0,2},?[ \t]{0,2}(?:ext\.?|extension|x)[ \t]{0,2}\.?[ \t]{0,2}\d{1,6}(?!\w)")

# National numbers of other countries, written with their trunk prefix `0`: `020 7946 0958`,
# `07700 900123`, `(02) 9374 4000`, `01 23 45 67 89`, `030 1234567`. One separator throughout, so
# dates and times (`01.02.2019 12:30`) do not read as one.
_NATIONAL = regex.compile(
    r"(?<![\w.+/-])(?<!\d[ \t.-])"
    r"(?:\(0\d{1,4}\)[ ]?\d{2,8}(?:(?P<ps>[ .-]?)\d{2,8}(?:(?P=ps)\d{2,8})?)?"
    r"|0\d{1,4}(?P<s>[ .-]?)\d{2,8}(?:(?P=s)\d{2,8}){0,3})"
    r"(?![\w:]|[./-]\d)")
# Countries whose numbers are read in their national form (tried in turn; validity decides).
NATIONAL_REGIONS = ("GB", "IE", "AU", "NZ", "FR", "DE", "AT", "CH", "NL", "BE", "IT", "IN", "ZA")
# A UK number laid out as the UK writes it, valid or in a range set aside for fiction
# (`07700 900123`, `020 7946 0000`): 11 digits, a mobile or geographic trunk code.
_UK_LAYOUT = regex.compile(r"0(?:7\d{3}[ ]?\d{3}[ ]?\d{3}|20[ ]?\d{4}[ ]?\d{4}|1\d{2,3}[ ]?\d{3}[ ]?\d{3,4})")
# dates (`01 02 2019`) and US ZIP+4 codes (`02035-6693`) are not phone numbers
_NOT_NATIONAL = regex.compile(
    r"(?:0?[1-9]|[12]\d|3[01])[ .-](?:0?[1-9]|[12]\d|3[01])[ .-](?:19|20)\d\d(?!\d)|\d{5}-\d{4}$")



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


def _with_extension(text: str, end: int) -> int:
    """`end`, moved past an extension written after the number."""
    ext = _EXTENSION_AFTER.match(text, end)
    return ext.end() if ext else end


def _cued(text: str, start: int, end: int) -> bool | None:
    """True when a cue word stands just before (or after) the number; None when an identifier
    label stands right before it (`NHS number 943 476 5919`): then it is no phone number."""
    before = text[max(0, start - _CUE_WINDOW):start]
    if _ID_LABEL.search(before):
        return None
    return _CUE.search(before) is not None or _CUE_AFTER.match(text, end) is not None \
        or _AFTER_EMAIL.search(before) is not None


def _national_fit(number: str) -> tuple[bool, bool]:
    """(valid, grouped): whether `number`, read with its trunk prefix, is a valid number of one of
    the regions, and whether that region also groups its digits the way they are written."""
    valid = False
    for region in NATIONAL_REGIONS:
        try:
            if not is_valid_number(parse(number, region)):
                continue
        except NumberParseException:
            continue
        valid = True
        strict = PhoneNumberMatcher(number, region, leniency=Leniency.STRICT_GROUPING)
        if any(m.start == 0 and m.end == len(number) for m in strict):
            return True, True
    if _UK_LAYOUT.fullmatch(number):
        return True, True
    return valid, False


def _national(text: str, taken: list[tuple[int, int]]) -> Iterator[Detection]:
    """Other countries' national numbers (trunk prefix `0`), not already found as US numbers."""
    for match in _NATIONAL.finditer(text):
        start, end = match.span()
        number = match.group()
        digits = sum(ch.isdigit() for ch in number)
        if not 9 <= digits <= 12 or _NOT_NATIONAL.match(number) or \
                any(s < end and start < e for s, e in taken):
            continue
        if _inside_longer_run(text, start, end):
            continue
        valid, grouped = _national_fit(number)
        cue = _cued(text, start, end)
        if not valid or cue is None:
            continue
        separated = any(c in number for c in " -.()")
        if separated:
            confidence = 0.95 if cue and grouped else 0.7 if cue else 0.85 if grouped and digits >= 10 else 0.4
        else:
            confidence = 0.8 if cue else 0.3
        yield Detection(start, _with_extension(text, end), confidence)


def find(text: str) -> Iterator[Detection]:
    """Telephone numbers in `text` (see the module docstring for the confidence levels)."""
    if sum(ch.isdigit() for ch in text) < 7:  # no phone number is shorter
        return
    found: list[Detection] = []
    readable, prefixes = _dialling_form(text)
    tries = len(text) + 1  # the matcher stops after 65,535 candidates by default
    for match in PhoneNumberMatcher(readable, REGION, leniency=Leniency.VALID, max_tries=tries):
        start, end = match.start, match.end
        grouped = _well_grouped(regex.sub(r"[ ]*-[ ]*", "-", readable[start:end]))
        start = prefixes.get(start, start)
        if _inside_longer_run(text, start, end):
            continue
        written = text[start:end]
        number = _EXTENSION.sub("", written)
        international = readable[match.start] == "+"
        formatted = international or any(c in number for c in " -.()/")
        cued = _cued(text, start, end)
        cue = bool(cued)
        if cued is None and not international:
            confidence = 0.3  # `MRN 5415550123`, `NHS number 943 476 5919`: an identifier
        elif international and grouped:
            confidence = 0.95
        elif not grouped:
            confidence = 0.7 if cue else 0.4
        elif formatted:
            confidence = 0.95 if cue else 0.85
        else:
            confidence = 0.8 if cue else 0.3
        found.append(Detection(start, _with_extension(text, end), confidence))
    found += _national(text, [(d.start, d.end) for d in found])
    yield from sorted(found)

