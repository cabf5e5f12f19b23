"""The `id` detector: the number after an identifier label (the label stays), bare SSNs, and
long bare numbers for review only."""
from __future__ import annotations

import time

import pytest
from detector_checks import spans

from deidc.runtime.text.detectors import APPLY_AT
from deidc.runtime.text.detectors.ids import find


def applied(text: str) -> list[tuple[int, int]]:
    return [(d.start, d.end) for d in find(text) if d.confidence >= APPLY_AT]



POSITIVES = [
    ("MRN: 12345678", ["12345678"]),
    ("MR# A1234567", ["A1234567"]),
    ("MR#A1234567", ["A1234567"]),
    ("Med Rec #: 12-345-678", ["12-345-678"]),
    ("medical record number 0012345.", ["0012345"]),
    ("SSN 123-45-6789", ["123-45-6789"]),
    ("social security no. 123 45 6789", ["123 45 6789"]),
    ("pt SSN: 123456789", ["123456789"]),
    ("acct 98765432", ["98765432"]),
    ("Account number: 55-1234", ["55-1234"]),
    ("Insurance ID: XYZ123456789", ["XYZ123456789"]),
    ("member id W123456789 group 555", ["W123456789"]),
    ("Policy # 12345-678", ["12345-678"]),
    ("patient ID: 00123456", ["00123456"]),
    ("Driver's license # D1234567", ["D1234567"]),
    ("drivers licence no. S530-4567-8901", ["S530-4567-8901"]),
    ("accession: 2019030412", ["2019030412"]),
    ("ACC# CT12345678", ["CT12345678"]),
    ("Acc. no.: 12345678", ["12345678"]),
    ("123-45-6789 on the form", ["123-45-6789"]),
    ("ID: 7654321", ["7654321"]),
    ("MRN 12345678 and acct # 555-1234", ["12345678", "555-1234"]),
    ("mrn#12345678, then", ["12345678"]),
    ("Medicare number 1EG4-TE5-MK73", ["1EG4-TE5-MK73"]),
    ("MBI: 1EG4TE5MK73", ["1EG4TE5MK73"]),
    ("hospital no. H-00012345", ["H-00012345"]),
    ("NHS number 943 476 5919", ["943 476 5919"]),
    ("Subscriber ID = 987654321", ["987654321"]),
    ("SS# 078-05-1120", ["078-05-1120"]),
    # the general shape: an identifier noun, then #/no./number/ID/:, then the code
    ("Encounter no. 4471902 opened in ED", ["4471902"]),
    ("Visit #: V00231877", ["V00231877"]),
    ("case number 2020-118877 reviewed", ["2020-118877"]),
    ("Req# LB-4471-22", ["LB-4471-22"]),
    ("Order ID: ORD5529104 placed", ["ORD5529104"]),
    ("Specimen: S19-004412", ["S19-004412"]),
    ("health card number 1234-567-890", ["1234-567-890"]),
    ("Employee ID 004521, badge # 77812", ["004521", "77812"]),
    ("serial number SN4455A1; device S/N: 88XK-2231", ["SN4455A1", "88XK-2231"]),
    ("Group number 00912", ["00912"]),
    ("Licence plate: 7ABC123", ["7ABC123"]),
    ("Claim: 12345678 denied", ["12345678"]),
    ("Medicaid ID 1234 5678 9012 noted", ["1234 5678 9012"]),
    # identifier nouns that need no # before a long number; acronyms that name an identifier
    ("requisition 88120934 received", ["88120934"]),
    ("claim 5765708976 on file", ["5765708976"]),
    ("OHIP 1234-567-890-AB", ["1234-567-890-AB"]),
    ("FIN 443209871 at registration", ["443209871"]),
    ("ID 12345678 on the band", ["12345678"]),
    # what an identity band reads
    ("patient wristband reads 0233922; 4/5 strength", ["0233922"]),
    ("ID bracelet shows 52-263399.", ["52-263399"]),
]


@pytest.mark.parametrize(("text", "parts"), POSITIVES)
def test_finds_labelled_numbers(text, parts):
    assert applied(text) == spans(text, *parts)


def test_the_label_is_kept():
    text = "MRN: 12345678, seen today"
    (start, end), = applied(text)
    assert text[:start] + text[end:] == "MRN: , seen today"


NEGATIVES = [
    "MRN: unknown",
    "patient 2 of 3",
    "member 2 of the family",
    "account for 25% of cases",
    "policy 12345",
    "Patient ID verified with two identifiers",
    "series 3 image 45",
    "Series 1001 image 125",
    "1.2.840.113619.2.55.3.604688119",
    "SOP Instance UID 1.2.840.10008.5.1.4.1.1.2",
    "study date 20190304",
    "acquired 20190304103000",
    "ID 4 mm catheter",
    "MR 12345",
    "unit no. 4B",
    "ACC 2019 guidelines",
    "ACC/AHA 2019 guideline",
    "patients 12345",
    "units #12345",
    "BP 120/80",
    "Exam date 2019-03-04",
    "L4-5 disc",
    "dose 1000000 units",  # review only
    "DL 1234567",  # review only
    "DLP 1234.5678 mGy*cm",
    "pt 1234567",  # review only
    "000-12-3456",
    "666-12-3456",
    "987-65-4321",
    "2019-03-04 and 12-34-5678",
    # counting and locating nouns are not identifiers (HIPAA Safe Harbor)
    "order #2",
    "case 3 of 5",
    "page 2 of 4",
    "series 3 image #4",
    "image #1234",
    "cycle #1234",
    "level 2, grade 3 in T2",
    "Room 5 bed 12",
    "sample: 1000 mL",
    "Plan: 1000 mg daily",
    "Visit: 03/04/2019",
    "Case 2019 review",
    "claim 2019",
    "encounter 20190304",
    "address on record: 2724 Cherry Ave",
    "Claim # 123 45 denied",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_leaves_clinical_numbers(text):
    assert applied(text) == []


def test_confidence_levels():
    def conf(text: str) -> list[float]:
        return [d.confidence for d in find(text)]

    assert conf("MRN 12345678") == [0.95]
    assert conf("SSN: 123-45-6789") == [0.95]
    assert conf("123-45-6789") == [0.9]
    assert conf("accession 12345678") == [0.7]
    assert conf("ACC 2019030412") == [0.7]
    assert conf("ID: 7654321") == [0.7]
    assert conf("dose 1000000 units") == [0.3]
    assert conf("study 20190304") == []  # a date, for the `date` detector
    assert conf("Encounter no. 4471902") == [0.9]
    assert conf("Claim: 12345678") == [0.85]
    assert conf("claim 12345678") == [0.7]
    assert conf("ID band reads 80362987") == [0.9]


def test_linear_on_adversarial_input():
    for text in ("1" * 100_000, "MRN " * 25_000, "MRN: " + "1-" * 50_000, "ssn " * 25_000,
                 "123-45-" * 14_000, "a1" * 50_000, "patient id: " * 8_000, "1." * 50_000,
                 "claim #1234 " * 8_000, "ID band reads 1 " * 6_000, "Medicaid ID " + "1234 " * 20_000):
        began = time.perf_counter()
        list(find(text))
        assert time.perf_counter() - began < 30

