"""The `date` detector: numeric and spelled-out dates; no ratios, versions, levels or times."""
from __future__ import annotations

import time

import pytest
from detector_checks import spans

from deidc.runtime.text.detectors import APPLY_AT
from deidc.runtime.text.detectors.date import find


def applied(text: str) -> list[tuple[int, int]]:
    return [(d.start, d.end) for d in find(text) if d.confidence >= APPLY_AT]



POSITIVES = [
    ("Prior study 03/04/2019 compared", ["03/04/2019"]),
    ("seen 3/4/19 in clinic", ["3/4/19"]),
    ("Exam date 2019-03-04", ["2019-03-04"]),
    ("Untersuchung vom 04.03.2019.", ["04.03.2019"]),
    ("StudyDate 20190304", ["20190304"]),
    ("DOB March 4, 2019", ["March 4, 2019"]),
    ("on 4 March 2019 the pt", ["4 March 2019"]),
    ("Mar 4th 2019", ["Mar 4th 2019"]),
    ("symptoms since March 2019", ["March 2019"]),
    ("4-MAR-2019 CT CHEST", ["4-MAR-2019"]),
    ("04-Mar-19", ["04-Mar-19"]),
    ("04MAR2019", ["04MAR2019"]),
    ("Mar. 4, 2019", ["Mar. 4, 2019"]),
    ("admitted the 4th of March, 2019", ["4th of March, 2019"]),
    ("seen on March 4 for f/u", ["March 4"]),
    ("last menses 03/2019", ["03/2019"]),
    ("2019/03/04", ["2019/03/04"]),
    ("DOB: 12/31/1980.", ["12/31/1980"]),
    ("acquired 2019-03-04T10:20:30", ["2019-03-04"]),
    ("AcquisitionDateTime 20190304103000.123", ["20190304103000.123"]),
    ("compared with 31/12/2018 and 1/2/2019", ["31/12/2018", "1/2/2019"]),
    ("surgery on december 25, 2018", ["december 25, 2018"]),
    ("SEPT 2018 and Sep 2018", ["SEPT 2018", "Sep 2018"]),
    ("Feb 29, 2020 (leap year)", ["Feb 29, 2020"]),
    ("(05-06-2019)", ["05-06-2019"]),
    ("born 1 Jan 1950, died Dec 5", ["1 Jan 1950", "Dec 5"]),
    # month name, day and year with dashes or slashes; `<month> of <year>`
    ("Jan-2-1998", ["Jan-2-1998"]),
    ("Feb/14/2003 CT", ["Feb/14/2003"]),
    ("in September of 1964 she", ["September of 1964"]),
    ("chemo started may 1959, last", ["may 1959"]),
    # a colon after the date
    ("PET 11/18/1993: Addison disease", ["11/18/1993"]),
    ("biopsy 20160424: benign", ["20160424"]),
    # birth-date labels take any numeric layout
    ("D.O.B. 9.8.82", ["9.8.82"]),
    ("DOB: 04 03 1982", ["04 03 1982"]),
    ("DOB 030482", ["030482"]),
    ("date of birth: 19820403", ["19820403"]),
    ("born 12-1-45", ["12-1-45"]),
    # two-digit-year dots and dashes with a cue or in a list
    ("seen on 9.8.82 for follow-up", ["9.8.82"]),
    ("exams 9.8.82 and 10.8.82", ["9.8.82", "10.8.82"]),
    ("CT 3/4/2019, 5-6-19 and 7.8.19", ["3/4/2019", "5-6-19", "7.8.19"]),
    ("9.8.82, 10.8.82 and 3/4/2019", ["9.8.82", "10.8.82", "3/4/2019"]),
    ("compared with studies on 3/4/2019 and 5/6/2019", ["3/4/2019", "5/6/2019"]),
    ("injections on 3/4 and 3/18/2019", ["3/4", "3/18/2019"]),
]


@pytest.mark.parametrize(("text", "parts"), POSITIVES)
def test_finds_dates(text, parts):
    assert applied(text) == spans(text, *parts)


NEGATIVES = [
    "software version 2.10.12",
    "v1.2.2019",
    "T2 FLAIR 3.0T",
    "strength 5/5 throughout",
    "BP 120/80 mmHg",
    "1/2 tab PO daily",
    "visual acuity 20/20",
    "L4-5 and C5-6",
    "1.2.840.10008.5.1.4.1.1.2",
    "1.2.840.20190304",
    "Scan at 12:30",
    "lesion 2-3 cm",
    "it may 5 be",
    "dec 2019 ct",
    "31/04/2019",
    "02/30/2019",
    "1/2/3/4",
    "accession 2019030412",
    "the patient may 2019",
    "grade 3/4 toxicity",
    "10-12 mm",
    "DEC 5 MM",
    "Dec 5 mg",
    "on 5 mar",
    "Jan Smith",
    "4 mg",
    "Gleason 3+4=7",
    "dilutions 1/10/100",
    "year 2019 only",
    "EF 55-60%",
    "TR/TE 4000/85",
    "matrix 256/256/2019",
    "the patient may 2019",
    "software 9.8.82",
    "version 4.2.10",
    "upgraded from 4.2.10 to 4.2.11",
    "software version 4.2.10 and 4.2.11",
    "9.8.82",
    "strength 5/5 and 4/5 in legs",
    "dilutions 1/10 and 1/100",
    "DOB 13/13/1980",
    "ratio 3.4.5",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_leaves_clinical_numbers(text):
    assert applied(text) == []


def test_confidence_levels():
    def conf(text: str) -> list[float]:
        return [d.confidence for d in find(text)]

    assert conf("March 4, 2019") == [0.95]
    assert conf("03/04/2019") == [0.95]
    assert conf("3/4/19") == [0.85]
    assert conf("20190304") == [0.85]
    assert conf("March 2019") == [0.6]
    assert conf("March 4") == [0.6]
    assert conf("DOB 9.8.82") == [0.95]
    assert conf("seen 9.8.82") == [0.85]


def test_linear_on_adversarial_input():
    for text in ("1" * 100_000, "1/" * 50_000, "12/12/" * 17_000, "2019-" * 20_000, "March " * 17_000,
                 "4 March " * 12_500, "1." * 50_000, "4th of " * 14_000, "1.1.11 and " * 9_000,
                 "on 1.1.11 " * 10_000, "DOB 1 1 " * 12_000, "3/4 and " * 12_000, "Jan-" * 25_000):
        began = time.perf_counter()
        list(find(text))
        assert time.perf_counter() - began < 30

