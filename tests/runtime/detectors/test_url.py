"""The `url` detector: scheme, `www.` and bare domains with a path; no dotted clinical shorthand."""
from __future__ import annotations

import time

import pytest
from detector_checks import spans

from deidc.runtime.text.detectors import APPLY_AT
from deidc.runtime.text.detectors.url import find


def applied(text: str) -> list[tuple[int, int]]:
    return [(d.start, d.end) for d in find(text) if d.confidence >= APPLY_AT]



POSITIVES = [
    ("see https://portal.example.org/p?id=123.", ["https://portal.example.org/p?id=123"]),
    ("http://10.0.0.5:8080/viewer", ["http://10.0.0.5:8080/viewer"]),
    ("(www.example.com)", ["www.example.com"]),
    ("family blog WWW.JOHNDOE-FAMILY.NET/photos, updated", ["WWW.JOHNDOE-FAMILY.NET/photos"]),
    ("example.com/jdoe", ["example.com/jdoe"]),
    ("messages at mychart.example.org/messages/42 daily", ["mychart.example.org/messages/42"]),
    ("https://en.wikipedia.org/wiki/Foo_(bar)", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    ("ftp://files.example.com/pub/study.zip", ["ftp://files.example.com/pub/study.zip"]),
    ("HTTPS://EXAMPLE.COM/ABC", ["HTTPS://EXAMPLE.COM/ABC"]),
    ("link: http://example.com!", ["http://example.com"]),
    ("www.example.co.uk/~jdoe/index.html;", ["www.example.co.uk/~jdoe/index.html"]),
    ("go to www2.example.net", ["www2.example.net"]),
    ("'https://example.com/a b'", ["https://example.com/a"]),
    ("twitter.com/jdoe1980 and facebook.com/jane.doe.9", ["twitter.com/jdoe1980", "facebook.com/jane.doe.9"]),
    ("see <http://example.org/x>", ["http://example.org/x"]),
    ("gofundme.com/f/help-jane-recover", ["gofundme.com/f/help-jane-recover"]),
    ("results: https://example.com/r?mrn=1234567&dob=1980-01-01", ["https://example.com/r?mrn=1234567&dob=1980-01-01"]),
    ("www.example.de:8443/path", ["www.example.de:8443/path"]),
    ("klinik-beispiel.de/patienten/123", ["klinik-beispiel.de/patienten/123"]),
    ("two: http://a.example.com/1, http://b.example.com/2.", ["http://a.example.com/1", "http://b.example.com/2"]),
    ("intranet http://pacs01/viewer?study=1", ["http://pacs01/viewer?study=1"]),
    ("url=https://example.io/#/p/9", ["https://example.io/#/p/9"]),
]


@pytest.mark.parametrize(("text", "parts"), POSITIVES)
def test_finds_web_addresses(text, parts):
    assert applied(text) == spans(text, *parts)


NEGATIVES = [
    "CT abd/pelvis w/ contrast",
    "ct.abd",
    "e.g. i.e. etc.",
    "pt.c/o pain",
    "Dr.Smith reviewed",
    "file.dcm",
    "report.pdf",
    "L4.5",
    "s/p lap chole",
    "http://",
    "3.0T/1.5T",
    "a.m./p.m.",
    "www.",
    "mg/dl",
    "N.B./",
    "study.pdf/",
    "v2.1.3",
    "jdoe@example.com",
    "f/u in 2 wks",
    "r/o PE, h/o DVT",
    "Pt.Name/ID verified",
    "IMG.0001/SER.002",
    "vs.no change",
    "Rt.knee/Lt.hip",
    "cont.in/out",
    "sag.T2/ax.FLAIR",
    "1.2.840.10008.5.1.4.1.1.2/1",
    "example.com",  # review only
    "mayo.edu",  # review only
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_leaves_clinical_text(text):
    assert applied(text) == []


def test_confidence_levels():
    def conf(text: str) -> list[float]:
        return [d.confidence for d in find(text)]

    assert conf("https://example.org/x") == [0.95]
    assert conf("www.example.org") == [0.9]
    assert conf("example.org/x") == [0.75]
    assert conf("example.org") == [0.3]


def test_linear_on_adversarial_input():
    for text in ("a" * 100_000, "a." * 50_000, "www." * 25_000, "http://" * 14_000, "a.com/" * 16_000,
                 "(" * 100_000, "http://" + ")" * 100_000, ("a" * 70 + ".") * 1_400):
        began = time.perf_counter()
        list(find(text))
        assert time.perf_counter() - began < 30

