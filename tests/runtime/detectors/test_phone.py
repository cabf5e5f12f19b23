"""The `phone` detector: national (US) and international numbers, no clinical numbers."""
from __future__ import annotations

import time

import pytest
from detector_checks import spans

from deidc.runtime.text.detectors import APPLY_AT
from deidc.runtime.text.detectors.phone import find


def applied(text: str) -> list[tuple[int, int]]:
    return [(d.start, d.end) for d in find(text) if d.confidence >= APPLY_AT]



POSITIVES = [
    ("Call daughter at +44 20 7946 0958 after 5pm", ["+44 20 7946 0958"]),
    ("home phone (541) 555-0123", ["(541) 555-0123"]),
    ("cell 541.555.0123.", ["541.555.0123"]),
    ("Berlin office +49 30 1234567", ["+49 30 1234567"]),
    ("Berlin office 0049 30 1234567", ["0049 30 1234567"]),
    ("from the US dial 011 44 20 7946 0958", ["011 44 20 7946 0958"]),
    ("work 541-555-0123 ext. 123, ask for Sam", ["541-555-0123 ext. 123"]),
    ("(541)555-0123x45", ["(541)555-0123x45"]),
    ("reach wife at 1-541-555-0123 tonight", ["1-541-555-0123"]),
    ("+1 541 555 0123", ["+1 541 555 0123"]),
    ("Paris: +33 1 23 45 67 89", ["+33 1 23 45 67 89"]),
    ("Sydney +61 2 9374 4000", ["+61 2 9374 4000"]),
    ("Tokyo +81 3-1234-5678", ["+81 3-1234-5678"]),
    ("London +44 (0)20 7946 0958", ["+44 (0)20 7946 0958"]),
    ("Tel: 5415550123", ["5415550123"]),
    ("fax (212) 555-0199 / phone (212) 555-0198", ["(212) 555-0199", "(212) 555-0198"]),
    ("PHONE 541 555 0123", ["541 555 0123"]),
    ("pager 541/555-0123", ["541/555-0123"]),
    ("mobile +1 (541) 555-0123;", ["+1 (541) 555-0123"]),
    ("contact: 541-555-0123 extension 55", ["541-555-0123 extension 55"]),
    ("Next of kin John, 541-5550123", ["541-5550123"]),
    ("numbers 541 555 0123 / 541 555 0124", ["541 555 0123", "541 555 0124"]),
    ("India +91 98765 43210", ["+91 98765 43210"]),
    # national numbers of other countries, with the trunk prefix
    ("mobile 07700 900123, landline 020 7946 0958", ["07700 900123", "020 7946 0958"]),
    ("ring her on 0161 496 0000 tomorrow", ["0161 496 0000"]),
    ("Sydney office (02) 9374 4000", ["(02) 9374 4000"]),
    ("Lyon: tel 04 72 33 44 55", ["04 72 33 44 55"]),
    ("daughter's number is 0412 345 678", ["0412 345 678"]),
    ("Berlin tel. 030 1234567", ["030 1234567"]),
    ("tel 02079460958", ["02079460958"]),
    ("surgery line 020 7946 0958 ext 204.", ["020 7946 0958 ext 204"]),
    # a `00` inside a number is no dialling prefix
    ("Cell: +1 409 403 0039", ["+1 409 403 0039"]),
    ("sister 712 - 575 - 0073", ["712 - 575 - 0073"]),
    # bare digits with a cue before or after them
    ("Emergency no. 5646114398 - friend", ["5646114398"]),
    ("best number 5349847876", ["5349847876"]),
    ("6412014947 (home) - no answer", ["6412014947"]),
    ("email jo@example.org or 5415550123", ["5415550123"]),
    ("Ph 531.295.8272 x2073. 3/5 strength.", ["531.295.8272 x2073"]),
]


@pytest.mark.parametrize(("text", "parts"), POSITIVES)
def test_finds_phone_numbers(text, parts):
    assert applied(text) == spans(text, *parts)


NEGATIVES = [
    "BP 120/80 mmHg, HR 72",
    "BP 140/90, repeat 135/85",
    "Exam date 2019-03-04",
    "Prior study 03/04/2019 compared",
    "Lesion measures 5.5 x 3.2 cm",
    "Lesion 12.5 x 10.1 x 8.0 mm",
    "SOP Instance UID 1.2.840.10008.5.1.4.1.1.2",
    "UID 1.2.840.113619.2.55.3.604688119.971.1234567890.123",
    "Study UID 1.2.840.10008.541.555.0123",
    "Accession 2019030412",
    "ACC 6175551234",
    "MRN 5415550123",
    "series 3 image 45 of 120",
    "Series 1001, image 125, slice 2.5 mm",
    "Disc bulge at L4-5 and L5-S1",
    "T2 FLAIR 3.0T sagittal",
    "Scan started 12:30, ended 12:45:30",
    "DLP 1234.56 mGy*cm, CTDIvol 12.34 mGy",
    "SSN 123-45-6789",
    "Dose 2.5 mg/kg q6h",
    "Gleason 3+4=7, PSA 4.5",
    "Hounsfield units -1000 to 3071",
    "matrix 512 x 512, FOV 240 mm",
    "kVp 120, mAs 250, pitch 0.984",
    "TR 4500 TE 85 TI 2500",
    "weight 72.5 kg height 178 cm",
    "2019-0304-12",
    "TIME 103045.123456",
    "0.5 mg 1-2 tabs PO q4-6h prn",
    # identifiers, dates and codes that look like national numbers
    "NHS number 943 476 5919",
    "NHS No: 943-476-5919",
    "MRN no. 5415550123",
    "accession number 2125550199",
    "Exam on 01.02.2019 12:30",
    "dates 01 02 2019 and 05 06 2019 compared",
    "work (Foxboro, MA 02035-6693)",
    "Lot 0123 4567 8901 of contrast",
    "software 01.02.03.04",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_leaves_clinical_numbers(text):
    assert applied(text) == []


def test_confidence_levels():
    def conf(text: str) -> list[float]:
        return [d.confidence for d in find(text)]

    assert conf("+44 20 7946 0958") == [0.95]
    assert conf("phone (541) 555-0123") == [0.95]
    assert conf("(541) 555-0123") == [0.85]
    assert conf("tel 5415550123") == [0.8]
    assert conf("accession 5415550123") == [0.3]  # review only
    assert conf("2019-0304-12") == [0.4]  # grouped like no real number: review only
    assert all(0 <= c < APPLY_AT for c in conf("ACC 2125550199"))
    assert conf("NHS number 943 476 5919") == [0.3]  # an NHS number, for the `id` detector
    assert conf("phone 020 7946 0958") == [0.95]
    assert conf("020 7946 0958") == [0.85]
    assert conf("Lot 0123 4567 8901") == [0.4]  # valid in one country, grouped like none


def test_linear_on_adversarial_input():
    for text in ("1 " * 50_000, "(1" * 50_000, "+1 " * 33_000, "541-555-0123 " * 7_700, "1.2." * 25_000,
                 "0049 " * 20_000, "020 7946 0958 " * 7_000, "01 " * 33_000, "(0" * 50_000, "a@b.org or " * 9_000):
        began = time.perf_counter()
        list(find(text))
        assert time.perf_counter() - began < 30


def test_matches_beyond_the_matchers_default_try_limit():
    text = "x 1 2 3 4 5 6 7 8 9 " * 10_000 + "phone (541) 555-0123"
    assert applied(text) == spans(text, "(541) 555-0123")

