"""The `email` detector: addresses, plain and bracketed; no `@` of clinical shorthand."""
from __future__ import annotations

import time

import pytest
from detector_checks import spans

from deidc.runtime.text.detectors import APPLY_AT
from deidc.runtime.text.detectors.email import find


def applied(text: str) -> list[tuple[int, int]]:
    return [(d.start, d.end) for d in find(text) if d.confidence >= APPLY_AT]



POSITIVES = [
    ("email jane.doe@example.org for results", ["jane.doe@example.org"]),
    ("Contact: J_DOE@MAIL.EXAMPLE.CO.UK.", ["J_DOE@MAIL.EXAMPLE.CO.UK"]),
    ("mailto:pat.smith+mri@hospital.com", ["pat.smith+mri@hospital.com"]),
    ("<john.q.public@gmail.com>", ["john.q.public@gmail.com"]),
    ("(daughter: maryann.oneil@yahoo.com)", ["maryann.oneil@yahoo.com"]),
    ("sent to jdoe [at] example [dot] com yesterday", ["jdoe [at] example [dot] com"]),
    ("jdoe(at)example.org", ["jdoe(at)example.org"]),
    ("jdoe (at) example.org", ["jdoe (at) example.org"]),
    ("E-mail: müller@klinik-beispiel.de", ["müller@klinik-beispiel.de"]),
    ("emails a@b.co and c.d@e.io", ["a@b.co", "c.d@e.io"]),
    ("wife's email is susan_1980@hotmail.com, prefers it", ["susan_1980@hotmail.com"]),
    ("EMAIL:BOB.SMITH@OUTLOOK.COM", ["BOB.SMITH@OUTLOOK.COM"]),
    ("patient portal user p12345@mychart.health", ["p12345@mychart.health"]),
    ("forwarded to first.last@sub.domain.example.com, then", ["first.last@sub.domain.example.com"]),
    ("dr.who%relay@example.net", ["dr.who%relay@example.net"]),
    ("x@example.fr;y@example.nl", ["x@example.fr", "y@example.nl"]),
    ("reply-to: no-reply@clinic.example.edu", ["no-reply@clinic.example.edu"]),
    ("ID jdoe@example.gov;", ["jdoe@example.gov"]),
    ("\"Jane\" <jane@example.info>", ["jane@example.info"]),
    ("jane [at] example.com", ["jane [at] example.com"]),
    ("son: tom.jones@btinternet.co.uk\n", ["tom.jones@btinternet.co.uk"]),
]


@pytest.mark.parametrize(("text", "parts"), POSITIVES)
def test_finds_addresses(text, parts):
    assert applied(text) == spans(text, *parts)


NEGATIVES = [
    "5 mg @ 10 pm",
    "T1@1.5T and T2@3T",
    "x@y",
    "ratio a@b.c",
    "john@host.com1",
    "Fentanyl 25 mcg @ 0800",
    "Follow-up @ 6 months",
    "Lesion @ L4-5",
    "@ level of carina",
    "SMITH^JOHN^A",
    "DOE^JANE^^^",
    "pt at home dot com",
    "seen at clinic. Dot on image",
    "contrast @ 3 mL/s",
    "CT abd/pelvis w/ contrast",
    "e.g. i.e. etc.",
    "Reading @ PACS ws3",
    "Phantom@120kVp",
    "ECG @rest",
    "pt.email not on file",
    "email: declined",
    "No e-mail address given",
    "Dr. Smith@",
    "HR 72@rest, BP 120/80",
    "1.2.840.10008@5.1",
    "bolus @ 4.5 mL/sec",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_leaves_clinical_text(text):
    assert applied(text) == []


def test_confidence_levels():
    def conf(text: str) -> list[float]:
        return [d.confidence for d in find(text)]

    assert conf("jane@example.org") == [0.95]
    assert conf("jane@example.de") == [0.95]
    assert conf("jane [at] example [dot] com") == [0.85]
    assert conf("study@scan.dcm") == [0.55]


def test_linear_on_adversarial_input():
    for text in ("a" * 100_000, "a." * 50_000, "a@" * 50_000, "a@b." * 25_000, "a.b@c" * 20_000,
                 "x [at] " * 14_000, "@" * 100_000, ("a" * 70 + "@") * 1_400):
        began = time.perf_counter()
        list(find(text))
        assert time.perf_counter() - began < 30

