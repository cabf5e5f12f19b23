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
- month and year in numbers: `03/2019`.
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
- 0.85  `YYYYMMDD`; a full date with a two-digit year (`3/4/19`, `04-Mar-19`)
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
_END = r"(?!(?!T\d)[\w/:-]|[.-]\d)"  # `2019-03-04T10:20` is a date and a time

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
    | {_MONTH}\.?(?:,?[ \t]{{1,2}}|-){_YEAR4}                                                  # March 2019
    )(?![\w]|[/-]\d)""",
    regex.IGNORECASE | regex.VERBOSE)

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
                and not (full_year and match["day"]):
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


def find(text: str) -> Iterator[Detection]:
    """Dates in `text` (see the module docstring for the confidence levels)."""
    found = sorted([*_numeric(text), *_spelled(text)])
    end = -1
    for detection in found:  # the layouts do not overlap, but keep the first of any that do
        if detection.start >= end:
            yield detection
            end = detection.end
