"""Dates written in free text.

What it finds:
- numeric layouts with a four-digit year: `03/04/2019`, `3/4/2019`, `2019-03-04`, `2019/03/04`,
  `2019.03.04`, `04.03.2019`, `03-04-2019`; and with a two-digit year, slashes only: `3/4/19`;
- eight digits `YYYYMMDD` (1900-2099, a real month and day): `20190304`, with the time if it
  follows (`20190304103000`, the DICOM DT layout);
- spelled out, any case: `March 4, 2019`, `4 March 2019`, `Mar 4th 2019`, `Mar. 4, 2019`,
  `4th of March, 2019`, `4-MAR-2019`, `04-Mar-19`, `04MAR2019`, `March 4` / `4 March` (no year, not followed by a unit:
  `DEC 5 MM` reads `decreased`),
  `March 2019` / `Mar-2019` (month and year);
- month and year in numbers: `03/2019`;
- `Jan-2-1998`, `Feb/14/2003` (month name, day, year), `September of 1964`, and a lower-case
  `may 1959` after a word that announces a date (`started may 1959`; `the patient may 2019` stays);
- after a birth or death label (`DOB`, `D.O.B.`, `date of birth`, `born`, `DOD`), any day, month
  and year: `DOB 04 03 1982`, `D.O.B. 9.8.82`, `DOB 030482`, `born 12-1-45`;
- a two-digit year with dots or dashes (`9.8.82`, `5-6-19`) only after a cue (`on`, `seen`, `dated`,
  `exam`, `prior`...) or next to another date (`on 9.8.82 and 10.8.82`), and never after
  `version`/`software`/`v` (`version 4.2.10`);
- the day and month that open a list ending with a full date: `on 3/4 and 3/18/2019`.
The span is the date. A day must exist in its month (31 April is not a date); a numeric date is
read month-first or day-first, whichever is a date.

Why: HIPAA counts every element of a date but the year (day, month and year; month and year;
month and day) as an identifier. Clinical text is full of numbers with slashes, dots and dashes,
so a layout is only accepted with a year of the right shape, and never inside a longer run of
digits, dots or slashes: `120/80`, `5/5 strength`, `1/2 tab`, `20/20`, `T2`, `L4-5`, `3.0T`,
`v2.10.12`, `1.2.840.10008...`, `12:30` and `2-3 cm` are not dates. Lower-case `may`, `mar`,
`jan`, `dec` ... are not taken for months unless a full date follows.

Confidence:
- 0.95  a full spelled-out date (day, month name, four-digit year), or a numeric one with a
        four-digit year
- 0.95  a numeric date after a birth/death label; 0.9 a compact one there (`DOB 030482`)
- 0.85  `YYYYMMDD`; a full date with a two-digit year (`3/4/19`, `04-Mar-19`, a cued `9.8.82`);
        the head of a date list (`3/4` in `3/4 and 3/18/2019`)
- 0.6   month and day without a year (`March 4`), month and year (`March 2019`, `03/2019`):
        removed (HIPAA counts them), and lower because they are more often something else
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import regex

from deidc.runtime.text.detectors import Detection

_MONTH_NUMBERS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}
_MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY = r"(?P<day>0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR4 = r"(?P<year>(?:19|20)\d\d)"
_YEAR = r"(?P<year>(?:19|20)\d\d|'?\d\d)"
# No start inside a word or a run of numbers (`1.2.840.20190304`, `v2.10.12`, `1/2/3/4`) ...
_START = r"(?<![\w./:-]|[./:-]\d)"
# ... and no end before more of it.
_END = r"(?!(?!T\d)[\w/-]|:\d|[.-]\d)"  # `2019-03-04T10:20` is a date and a time; `2019-03-04:` a date

_NUMERIC = regex.compile(
    rf"""{_START}(?:
      (?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?P=sep)(?P<year>(?:19|20)\d\d)      # 03/04/2019
    | (?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})/(?P<year2>\d\d)                                 # 3/4/19
    | (?P<year>(?:19|20)\d\d)(?P<sep>[/.-])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}})      # 2019-03-04
    | (?P<compact>(?P<year>(?:19|20)\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])  # 20190304
        (?:(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d(?:\.\d{{1,6}})?)?)?)                        # ...103000
    | (?P<mm>0?[1-9]|1[0-2])/(?P<year>(?:19|20)\d\d)                                    # 03/2019
    ){_END}""",
    regex.VERBOSE)

_SPELLED = regex.compile(
    rf"""(?<![\w-])(?:
      {_MONTH}\.?[ \t]{{0,2}}(?:the[ \t]{{1,2}})?{_DAY}(?:(?:,[ \t]{{0,2}}|[ \t]{{1,2}}){_YEAR4})?   # March 4, 2019
    | {_DAY}(?:[ \t]{{1,2}}of)?[ \t]{{1,2}}{_MONTH}\.?(?:,?[ \t]{{1,2}}{_YEAR4})?                # 4 March 2019
    | {_DAY}(?P<dash>-?){_MONTH}(?P=dash){_YEAR}                                               # 4-MAR-2019
    | {_MONTH}(?P<msep>[-/.]){_DAY}(?P=msep){_YEAR}                                            # Jan-2-1998
    | {_MONTH}\.?(?:,?[ \t]{{1,2}}(?:of[ \t]{{1,2}})?|-){_YEAR4}                                 # March (of) 2019
    )(?![\w]|[/-]\d)""",
    regex.IGNORECASE | regex.VERBOSE)

# Words after which a lower-case `may`, `mar`, `dec` with a year is the month: `started may 1959`.
_MONTH_CONTEXT = regex.compile(
    r"(?i)(?:\b(?:in|since|from|until|till|to|through|thru|during|before|after|by|on|of|and|or|started|"
    r"began|begun|ended|stopped|early|late|mid|around|circa|last|diagnosed|dx|seen)|[,;(])[ \t]{1,2}$")

# A date label: `DOB`, `D.O.B.`, `date of birth`, `born`, `DOD`. After one, any day-month-year
# layout is a date, also with spaces (`DOB 04 03 1982`), a two-digit year (`D.O.B. 9.8.82`) or none
# (`DOB 030482`, `DOB: 04031982`).
_DOB = regex.compile(
    r"""(?<![\w.])(?:dob|d\.[ ]?o\.[ ]?b\.?|date[ \t]+of[ \t]+(?:birth|death)|birth[ \t]?date|birthday|born|dod|d\.o\.d\.?)
      (?:[ \t]{0,2}(?:[:\#=-]|is|was|on)){0,2}[ \t]{0,3}
      (?:(?P<a>\d{1,2})(?P<sep>[ /.-])(?P<b>\d{1,2})(?P=sep)(?P<y>(?:19|20)?\d\d)
       | (?P<compact>\d{6}|\d{8}))(?![\w/:-]|[.-]\d)""",
    regex.IGNORECASE | regex.VERBOSE)

# A day-month-year with a two-digit year and dots or dashes (`9.8.82`, `3-4-19`): read as a date
# only after a word that announces one, or next to another date (`on 9.8.82 and 10.8.82`).
_SHORT = regex.compile(rf"{_START}(?P<a>\d{{1,2}})(?P<sep>[.-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d\d){_END}(?!\.\w)")
_SHORT_CUE = regex.compile(
    r"(?i)\b(?:on|dated?|since|seen|admitted|discharged|performed|done|prior|previous|last|exams?|"
    r"stud(?:y|ies)|scans?|surgery|biopsy|visits?|born|dob|d\.o\.b)\.?[ \t:]{1,3}$")
_GAP = 8
_VERSION = regex.compile(r"(?i)\b(?:v|ver|version|release|build|software|firmware|sw|fw|rev)\b")
# A day and month in a list that ends with a full date: `3/4 and 3/6/2019`, `3/4, 3/6/2019`.
_LIST_HEAD = regex.compile(
    rf"{_START}(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})"
    r"(?=(?:,[ \t]{0,2}|[ \t]{1,2}(?:and|or|&|to|through)[ \t]{1,2})\d{1,2}(?P=sep)\d{1,2}(?P=sep)(?:(?:19|20)\d\d|\d\d)(?!\d))")

_MEASURE = regex.compile(r"[ \t]{0,2}(?:(?:[mcµu]?[mgl]|mmhg|kg|cc|x|times|units?)\b|%)", regex.IGNORECASE)


def _exists(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _numeric(text: str) -> Iterator[Detection]:
    for match in _NUMERIC.finditer(text):
        if match["mm"]:
            yield Detection(match.start(), match.end(), 0.6)
            continue
        if match["m"]:
            if _exists(int(match["year"]), int(match["m"]), int(match["d"])):
                yield Detection(match.start(), match.end(), 0.85 if match["compact"] else 0.95)
            continue
        year = int(match["year"]) if match["year"] else 2000 + int(match["year2"])
        a, b = int(match["a"]), int(match["b"])
        if _exists(year, a, b) or _exists(year, b, a):
            yield Detection(match.start(), match.end(), 0.95 if match["year"] else 0.85)


def _spelled(text: str) -> Iterator[Detection]:
    for match in _SPELLED.finditer(text):
        month_word = match["month"]
        full_year = match["year"] is not None and len(match["year"].lstrip("'")) == 4
        if month_word.islower() and (len(month_word) < 4 or month_word == "may" or month_word == "march") \
                and not (full_year and match["day"]) \
                and not (full_year and _MONTH_CONTEXT.search(text, max(0, match.start() - 20), match.start())):
            continue  # `may 5`, `dec 2019`, `mar 4` in lower case: words, not months
        month = _MONTH_NUMBERS[month_word[:3].lower()]
        if match["day"]:
            day = int(match["day"])
            year = int(match["year"].lstrip("'")) if match["year"] else 2000  # a leap year
            if match["year"] and len(match["year"].lstrip("'")) == 2:
                year += 2000
            if not _exists(year, month, day):
                continue
            confidence = 0.95 if full_year else 0.85 if match["year"] else 0.6
            if not match["year"] and _MEASURE.match(text, match.end()):
                continue  # `DEC 5 MM` (decreased)
        else:
            confidence = 0.6
        yield Detection(match.start(), match.end(), confidence)


def _short_year(two: str) -> int:
    return 2000 + int(two) if int(two) < 30 else 1900 + int(two)


def _either_way(year: int, a: int, b: int) -> bool:
    return _exists(year, a, b) or _exists(year, b, a)


def _labelled(text: str) -> Iterator[Detection]:
    """Dates after a birth or death label, in any numeric layout."""
    for match in _DOB.finditer(text):
        if match["compact"]:
            digits = match["compact"]
            if len(digits) == 8:
                ok = digits[:2] in ("19", "20") and _exists(int(digits[:4]), int(digits[4:6]), int(digits[6:])) \
                    or _either_way(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
            else:
                ok = _either_way(_short_year(digits[4:]), int(digits[:2]), int(digits[2:4]))
            if ok:
                yield Detection(match.start("compact"), match.end(), 0.9)
            continue
        y = match["y"]
        year = int(y) if len(y) == 4 else _short_year(y)
        if _either_way(year, int(match["a"]), int(match["b"])):
            yield Detection(match.start("a"), match.end(), 0.95)


def _short(text: str, dates: list[Detection]) -> Iterator[Detection]:
    """`9.8.82`, `3-4-19` after a date cue, or next to another date (`9.8.82 and 10.8.82`)."""
    candidates = [m.span() for m in _SHORT.finditer(text)
                  if _either_way(_short_year(m["y"]), int(m["a"]), int(m["b"]))
                  and not _VERSION.search(text, max(0, m.start() - 30), m.start())]
    spans = sorted((d.start, d.end) for d in dates)
    taken = set(spans)
    accepted: set[int] = set()
    # forwards: a cue, or a date just before or just after (the dates of a list are 8 characters apart
    # at most: `, `, ` and `, ` or `)
    last_end, i = -_GAP - 1, 0
    for index, (start, end) in enumerate(candidates):
        while i < len(spans) and spans[i][0] < start:
            last_end = max(last_end, spans[i][1])
            i += 1
        if (start, end) in taken:
            continue
        after = i < len(spans) and 0 <= spans[i][0] - end <= _GAP
        if 0 <= start - last_end <= _GAP or after or _SHORT_CUE.search(text, max(0, start - 25), start):
            accepted.add(index)
            last_end = max(last_end, end)
    # backwards: the dates of a list that only ends with a cued or a full date
    next_start, j = len(text) + _GAP + 1, len(spans) - 1
    for index in range(len(candidates) - 1, -1, -1):
        start, end = candidates[index]
        while j >= 0 and spans[j][0] >= end:
            next_start = min(next_start, spans[j][0])
            j -= 1
        if index not in accepted and (start, end) not in taken and 0 <= next_start - end <= _GAP:
            accepted.add(index)
        if index in accepted:
            next_start = start
    for index in sorted(accepted):
        yield Detection(*candidates[index], 0.85)


def _list_heads(text: str) -> Iterator[Detection]:
    for match in _LIST_HEAD.finditer(text):
        if _either_way(2000, int(match["a"]), int(match["b"])):
            yield Detection(match.start(), match.end(), 0.85)


def find(text: str) -> Iterator[Detection]:
    """Dates in `text` (see the module docstring for the confidence levels)."""
    found = sorted([*_labelled(text), *_numeric(text), *_spelled(text)])
    # the longest, then the most confident, of those that start at the same place
    found = sorted([*found, *_short(text, found), *_list_heads(text)], key=lambda d: (d.start, -d.end, -d.confidence))
    end = -1
    for detection in found:  # the layouts do not overlap, but keep the first of any that do
        if detection.start >= end:
            yield detection
            end = detection.end
