"""`clean ... detect NAME, ...`: the rule's detectors run inside `clean`, what is confident enough
is removed, and what is doubtful is returned for review — applied or not."""
from __future__ import annotations

import pytest

from deidc.runtime.text.clean import CleanSpec, Review, clean_texts
from deidc.runtime.text.detectors import APPLY_AT, Detection
from deidc.runtime.text.detectors.registry import FINDERS
from deidc.runtime.text.phi import build_phi

NO_PHI = build_phi([])


def _run(text: str, spec: CleanSpec) -> tuple[str, list, list[Review]]:
    reviews: list[list[Review]] = []
    [(out, hits)] = clean_texts([text], NO_PHI, spec, 0, reviews=reviews)
    return out, hits, reviews[0]


@pytest.fixture
def scripted(monkeypatch):
    """The `person` detector replaced by one that finds given spans with given confidences."""
    found: list[tuple[str, float]] = []

    def find(text):
        for words, confidence in found:
            start = text.find(words)
            if start >= 0:
                yield Detection(start, start + len(words), confidence)
    monkeypatch.setitem(FINDERS, "person", find)
    return found


def test_a_confident_detection_is_removed_and_named_in_the_hits(scripted):
    scripted.append(("Kalani", 0.95))
    out, hits, reviews = _run("MRSA +; next of kin Kalani, call first", CleanSpec(None, (), None, ("person",)))
    assert out == "MRSA +; next of kin, call first"
    assert hits == [("person", "detect")]
    assert reviews == []  # above the review threshold: nothing to look at


def test_doubtful_detections_are_reviewed_whether_removed_or_not(scripted):
    scripted.extend([("Hope", 0.4), ("Kalani", 0.6), ("Brown", 0.1)])
    out, hits, reviews = _run("Hope seen with Kalani; Brown stool", CleanSpec(None, (), None, ("person",)))
    assert out == "Hope seen with; Brown stool"
    assert reviews == [Review("person", 0.4, "Hope", False), Review("person", 0.6, "Kalani", True)]
    # a lower threshold narrows the band: only what is below it is listed
    _, _, fewer = _run("Hope seen with Kalani", CleanSpec(None, (), None, ("person",), review_below=0.5))
    assert fewer == [Review("person", 0.4, "Hope", False)]


def test_without_detect_no_detector_runs(scripted):
    scripted.append(("Kalani", 0.99))
    assert _run("next of kin Kalani", CleanSpec(None, (), None))[0] == "next of kin Kalani"


def test_a_detection_inside_an_earlier_match_is_not_removed_twice(scripted):
    scripted.append(("555-0142", 0.9))
    out, hits, _ = _run("call 617-555-0142 today", CleanSpec(None, ("phone",), None, ("person",)))
    assert out == "call today"
    assert hits == [("phone", "regex")]


def test_every_shipped_detector_is_registered_and_answers_on_plain_text():
    assert set(FINDERS) == {"address", "person", "phone", "email", "url", "id", "date"}
    for name, find in FINDERS.items():
        assert [d for d in find("CT CHEST WITHOUT CONTRAST") if d.confidence >= APPLY_AT] == [], name
