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
- the general shape `<identifier noun> (#|no.|nr|number|ID|:)` and a code, for any noun that names a
  record or an identifier: claim, case, encounter, visit, order, requisition/req, specimen, sample,
  record, chart, card (health card), registration, enrolment, plan, payer, guarantor, employee,
  staff, badge, student, serial (`S/N`), device, certificate, licence, plate, confirmation,
  authorization, referral, reference, tracking, FIN, CSN, EMPI, OHIP, PHN, HIN, NPI...: `Claim #
  PN6998`, `Encounter no. 1234567`, `health card number 1234-567-890`, `Specimen: S19-12345`,
  `Employee ID 004521`, `serial number SN4455A1`; the code needs 4 digits or more; `claim`,
  `encounter`, `requisition`, `specimen` and a bare `ID` also take a number of 6 digits or more
  with no `#` (`claim 5765708976`, `ID 12345678`);
- what an ID band or card reads: `ID band reads 80362987`, `wristband shows 0233922`;
- without a label: `123-45-6789` laid out like a social security number, and long runs of digits.
A number is a run of letters and digits (at least one digit), possibly split by `-`, `/`, `.`,
e.g. `A1234567`, `12-345-678`; an SSN or NHS number may also be split by spaces (`123 45 6789`,
`943 476 5919`), and so may any labelled number written in groups of digits (`1234 5678 9012`).

What stays (HIPAA Safe Harbor lists record, account, health-plan, licence, certificate, vehicle and
device serial numbers, and "any other unique identifying number"; it does not list the numbers that
locate something inside a study or a document): `series 3`, `image #4`, `slice 12`, `page 2`,
`level 2`, `grade 3`, `T2`, `Room 5`, `bed 12`, `lot 4`, `cycle 3`, `version 2.1`, doses and
measurements. Their nouns are simply not identifier nouns; a number of fewer than 4 digits after a
general noun (`order #2`, `case 3`) is taken for a count, not a code.

Why: HIPAA names medical record, account, social security, health plan, licence and "any other
unique identifying" numbers. A label makes a number an identifier; a bare long number may just as
well be a UID component, a measurement or a dose, so it is only listed for review.

Confidence:
- 0.95  after an MRN, SSN, medical-record, patient-ID, insurance, account or licence label
- 0.9   a bare `###-##-####` that is a possible SSN (area not 000, 666 or 9xx)
- 0.9   after an identifier noun and `#`/`no.`/`number`/`ID`, or what an ID band reads
- 0.85  after an identifier noun and only `:` (`Claim: 12345678`)
- 0.7   after an accession label or a bare `ID:` / `ID #`; a 6+ digit number right after `claim`,
        `encounter`, `requisition`, `specimen` or `ID` with no `#`
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

# Nouns that name a record or an identifier: with a suffix (`#`, `no.`, `number`, `ID`) or a `:`
# after them, the code that follows is identifying. Counting nouns (series, image, page, level,
# grade, room, bed, slice, cycle...) are deliberately not here.
_NOUN = (r"claim|case|encounter|enc|visit|order|requisition|req|specimen|sample|record|chart|card|"
         r"registration|reg|enrol(?:l)?ment|membership|payer|payor|guarantor|insured|employee|emp|"
         r"staff|badge|student|serial|device|certificate|cert|licen[cs]e|permit|plate|vehicle|vin|"
         r"confirmation|authori[sz]ation|auth|referral|reference|ref|tracking|voucher|invoice|bill|"
         r"billing|contract|fin|csn|har|empi|mpi|upi|urn|umrn|ohip|ramq|phn|hin|ihi|nhi|chi|"
         r"npi|upin|dea|tin|itin|ein|sin|nin|national\s+insurance|group|subscriber|member|policy|"
         r"beneficiary|medicare|medicaid|insurance|passport|s/n|sn")
# ... of which these are identifiers even with no `#` (a 6+ digit number right after them).
_BARE_NOUN = regex.compile(r"(?i)^(?:claim|encounter|requisition|specimen|fin|csn|har|empi|mpi|upi|urn|umrn|"
                           r"ohip|ramq|phn|hin|ihi|nhi|chi|npi|upin|dea|itin|ein|sin|nin|vin)$")
_GEN_SUFFIX = r"(?:\#|nos?\b\.?|nr\b\.?|nbr\b\.?|num\b\.?|numbers?\b|ids?\b|identifier\b)"
# a number written in groups of digits (`1234 5678 9012`), at least 8 digits in all
_GROUPED = r"(?P<number>(?=(?:\d[ ]?){8})\d{3,6}(?:[ ]\d{2,6}){1,4})(?=[^\w]|$)(?![ ]\d|[.,/-]\d)"
_BAND = (r"(?:id(?:entification)?|identity|name|hospital|arm)[ \t]{1,2}(?:band|bracelet|wristband|card|tag)|"
         r"wristband|armband")
_BAND_VERB = r"(?:reads?|read[ \t]as|shows?|showed|says|said|states?|displays?|lists?|bears?|with|\#|no\b\.?|number)"

_LABELLED = regex.compile(
    rf"""(?<![\w])(?:
      (?P<ssnlabel>ssn|ss\s?\#|social\s+security(?:\s+{_SUFFIX})?|soc\.?\s?sec\.?(?:\s?{_SUFFIX})?)
        {_SEP}(?P<number>\d{{3}}(?P<ssep>[- ]?)\d{{2}}(?P=ssep)\d{{4}})
    | (?P<nhslabel>nhs(?:\s+{_SUFFIX})?){_SEP}(?P<number>\d{{3}}(?P<nsep>[- ]?)\d{{3}}(?P=nsep)\d{{4}})
    | (?P<label>{_STRONG})(?:(?<=[\#.])|\b)(?P<suffix>[ \t]{{0,2}}{_SUFFIX})?{_SEP}(?:{_GROUPED}|{_NUMBER})
    | (?P<acc>{_ACCESSION})(?:(?<=[.])|\b)(?P<accsuffix>[ \t]{{0,2}}{_SUFFIX})?{_SEP}{_NUMBER}
    | (?P<id>id)[ \t]{{0,2}}[:\#]{_SEP}{_NUMBER}
    | (?P<band>{_BAND})[ \t]{{1,2}}{_BAND_VERB}{_SEP}(?:{_GROUPED}|{_NUMBER})
    | (?P<gen>{_NOUN})(?:(?<=[.])|\b)(?P<gsuffix>[ \t]{{0,2}}{_GEN_SUFFIX})?(?P<gsep>{_SEP})(?:{_GROUPED}|{_NUMBER})
    | (?P<bareid>id)[ \t]{{1,2}}(?P<number>\d{{6,20}})
    )(?![\w])""",
    regex.IGNORECASE | regex.VERBOSE)

_BARE_SSN = regex.compile(r"(?<![\w/.-])(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w/-]|\.\d)")
_LONG_RUN = regex.compile(r"(?<![\w.,/:-])\d{7,40}(?![\w/:-]|[.,]\d)")
_UNIT = regex.compile(r"[ \t]{0,2}(?:(?:[mcµu]?[mgl]|mmhg|kg|cc|iu|units?|mgy|gy|msv|hu|bpm|mins?|hrs?|sec)\b|%)",
                      regex.IGNORECASE)
_WORD_AFTER = regex.compile(r"[ \t]+[^\W\d_]{2}")
_NUMERIC_DATE = regex.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
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
        elif match["band"]:
            if sum(ch.isdigit() for ch in match["number"]) < 4:
                continue
            confidence = 0.9
        elif match["gen"] or match["bareid"]:
            confidence = _general(text, match)
            if not confidence:
                continue
        else:
            digits = sum(ch.isdigit() for ch in match["number"])
            if digits < 4 or (match["acc"] and not match["accsuffix"] and digits < 6):
                continue  # `ACC 2019 guideline` (American College of Cardiology)
            confidence = 0.7
        yield Detection(start, end, confidence)


def _general(text: str, match: regex.Match[str]) -> float:
    """The confidence of a number after an identifier noun or a bare `ID` (0: not an identifier)."""
    number = match["number"]
    digits = sum(ch.isdigit() for ch in number)
    if digits < 4 or _UNIT.match(text, match.end()) or _NUMERIC_DATE.fullmatch(number) \
            or _DATE_LIKE.fullmatch(number):
        return 0  # `order #2`, `sample: 1000 mL`, `visit: 03/04/2019` (a date, for `date`)
    if match["bareid"]:
        return 0.7
    if match["gsuffix"]:
        return 0.9
    if any(ch in match["gsep"] for ch in ":#="):
        if number.isdigit() and digits < 6 and _WORD_AFTER.match(text, match.end()):
            return 0  # `address on record: 2724 Cherry Ave`: a house number
        return 0.85
    if _BARE_NOUN.match(match["gen"]) and digits >= 6:
        return 0.7
    return 0


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
