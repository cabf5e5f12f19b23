"""No detector removes anything from the shared false-positive corpus: the dev set's retained
free text and clinical phrases (study descriptions, findings, eponyms, abbreviations), one per
line. Over-removal is as bad as a leak."""
from __future__ import annotations

from pathlib import Path

import pytest

from deidc.runtime.text.detectors import APPLY_AT
from deidc.runtime.text.detectors.registry import FINDERS

CORPUS = Path(__file__).with_name("false_positive_corpus.txt")
LINES = [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_corpus_is_large_enough_to_mean_something():
    assert len(LINES) >= 300


@pytest.mark.parametrize("name", sorted(FINDERS))
def test_no_detector_removes_anything_from_the_corpus(name):
    find = FINDERS[name]
    removed = {line: [line[d.start:d.end] for d in find(line) if d.confidence >= APPLY_AT] for line in LINES}
    assert {line: words for line, words in removed.items() if words} == {}
