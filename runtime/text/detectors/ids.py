"""Identifying numbers in free text, found by the label written before them (detector `id`).

What it finds: the number after a label that says what it is, and nothing of the label, so
`MRN: 12345678` reads `MRN: ` once the number is removed:
- medical record numbers: `MRN`, `MR#`, `MR no.`, `Med Rec #`, `medical record number`,
  `hospital number`, `chart #`, `unit no.`;
- social security numbers: `SSN`, `SS#`, `social security number/no./#`;
- account numbers: `acct`, `account #/no./number`;
- insurance numbers: `insurance`, `member`, `policy`, `subscriber`, `group`, `Medicare`,
  `Medicaid` followed by `ID`, `#`, `no.` or `number`; `MBI`, `HICN`;
- `patient ID`, `pt #`, `PID`, `patient number`; `driver's licence/license #`, `DL #`, `DLN`;
  `passport no.`, `NHS number`; a bare `ID:` / `ID #`;
- accession numbers: `accession`, `acc #`, `acc no.`;
- without a label: `123-45-6789` laid out like a social security number, and long runs of digits.
A number is a run of letters and digits (at least one digit), possibly split by `-`, `/`, `.`,
e.g. `A1234567`, `12-345-678`; an SSN or NHS number may also be split by spaces (`123 45 6789`,
`943 476 5919`).

Why: HIPAA names medical record, account, social security, health plan, licence and "any other
unique identifying" numbers. A label makes a number an identifier; a bare long number may just as
well be a UID component, a measurement or a dose, so it is only listed for review.

Confidence:
- 0.95  after an MRN, SSN, medical-record, patient-ID, insurance, account or licence label
- 0.9   a bare `###-##-####` that is a possible SSN (area not 000, 666 or 9xx)
- 0.7   after an accession label or a bare `ID:` / `ID #`
- 0.3   a bare run of 7 or more digits, no label (review only); dates and UIDs are left out
"""
from __future__ import annotations

from collections.abc import Iterator

import regex

from deidc.runtime.text.detectors import Detection

# `#`, `no.`, `number`, `ID` ... between a label word and its number.
_SUFFIX = r"(?:\#|nos?\b\.?|num\b\.?|nbr\b\.?|numbers?\b|ids?\b|identifier\b|identification(?:\s+number)?\b)"
_SEP = r"[ \t]{0,3}(?:[:=#.\-][ \t]{0,3}){0,2}"
# Label words that name an identifier on their own (the suffix is optional) ...
_STRONG = (r"mrn|mr\s?\#|mr\s?no\b\.?|med(?:ical)?\.?\s?rec(?:ord)?s?\.?|hospital|chart|unit|"
           r"ssn|ss\s?\#|social\s+security|soc\.?\s?sec\.?|"
           r"acct|account|"
           r"insurance|ins\.?|member|policy|subscriber|medicare|medicaid|health\s?plan|beneficiary|"
           r"mbi|hicn|"
           r"patient|pt\.?|pid|"
           r"driver'?s?\s+licen[cs]e|dl|dln|passport|nhs")
# ... and which of them need the suffix (`account 12345678` reads as a number, `member 2` does not).
_NEEDS_SUFFIX = regex.compile(
    r"(?i)^(?:hospital|chart|unit|account|insurance|ins\.?|member|policy|subscriber|medicare|medicaid|"
    r"health\s?plan|beneficiary|patient|pt\.?|dl|passport|nhs|social\s+security|soc\.?\s?sec\.?)$")
_ACCESSION = r"accession|acc\b\.?|accn"
# a digit within the first 30 characters, so a word (`pt SSN: ...`) is never taken for the number
_NUMBER = r"(?P<number>(?=[\w./-]{0,29}\d)[^\W_](?:[^\W_]|[-/.](?=[^\W_])){2,29})"

_LABELLED = regex.compile(
    rf"""(?<![\w])(?:
      (?P<ssnlabel>ssn|ss\s?\#|social\s+security(?:\s+{_SUFFIX})?|soc\.?\s?sec\.?(?:\s?{_SUFFIX})?)
        {_SEP}(?P<number>\d{{3}}(?P<ssep>[- ]?)\d{{2}}(?P=ssep)\d{{4}})
    | (?P<nhslabel>nhs(?:\s+{_SUFFIX})?){_SEP}(?P<number>\d{{3}}(?P<nsep>[- ]?)\d{{3}}(?P=nsep)\d{{4}})
    | (?P<label>{_STRONG})(?:(?<=[\#.])|\b)(?P<suffix>[ \t]{{0,2}}{_SUFFIX})?{_SEP}{_NUMBER}
    | (?P<acc>{_ACCESSION})(?:(?<=[.])|\b)(?P<accsuffix>[ \t]{{0,2}}{_SUFFIX})?{_SEP}{_NUMBER}
    | (?P<id>id)[ \t]{{0,2}}[:\#]{_SEP}{_NUMBER}
    )(?![\w])""",
    regex.IGNORECASE | regex.VERBOSE)

_BARE_SSN = regex.compile(r"(?<![\w/.-])(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w/-]|\.\d)")
_LONG_RUN = regex.compile(r"(?<![\w.,/:-])\d{7,40}(?![\w/:-]|[.,]\d)")
_DATE_LIKE = regex.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])?(?:[0-5]\d){0,2}")


def _labelled(text: str) -> Iterator[Detection]:
    for match in _LABELLED.finditer(text):
        start, end = match.span("number")
        if not any(ch.isdigit() for ch in match["number"]):
            continue  # `MRN: unknown`, `patient identification band`
        if match["ssnlabel"] or match["nhslabel"]:
            confidence = 0.95
        elif match["label"]:
            if not match["suffix"] and _NEEDS_SUFFIX.match(match["label"]):
                continue
            digits = sum(ch.isdigit() for ch in match["number"])
            if digits < 3:
                continue  # `patient #2`, `unit no. 4B`
            confidence = 0.95
        else:
            digits = sum(ch.isdigit() for ch in match["number"])
            if digits < 4 or (match["acc"] and not match["accsuffix"] and digits < 6):
                continue  # `ACC 2019 guideline` (American College of Cardiology)
            confidence = 0.7
        yield Detection(start, end, confidence)


def find(text: str) -> Iterator[Detection]:
    """Identifying numbers in `text` (see the module docstring for the confidence levels)."""
    if not any(ch.isdigit() for ch in text):
        return
    found = list(_labelled(text))
    taken = [(d.start, d.end) for d in found]

    def free(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e in taken)

    for match in _BARE_SSN.finditer(text):
        if free(*match.span()):
            found.append(Detection(match.start(), match.end(), 0.9))
            taken.append(match.span())
    for match in _LONG_RUN.finditer(text):
        if free(*match.span()) and not _DATE_LIKE.fullmatch(match.group()):
            found.append(Detection(match.start(), match.end(), 0.3))
    yield from sorted(found)
