"""A rule file's regexes in the compiler: checked with the flags they are written with, and a
`name ~ /re/` selector that backtracks without bound over the dictionary's keywords is a compile
diagnostic with the selector's position (not a compiler that never returns)."""
from __future__ import annotations

from pathlib import Path

import pytest

from deidc.compiler import names
from deidc.compiler.plan import ValueMatches

HEADER = 'version 1\nkey = secret("DEIDC_KEY")\n'  # lines 1-2


def errors(result) -> list:
    return [d for d in result.diagnostics if d.severity == "error"]


def test_a_name_pattern_that_backtracks_is_a_diagnostic_at_its_position(compile_text, monkeypatch):
    monkeypatch.setattr(names, "NAME_PATTERN_SECONDS", 0.2)
    result = compile_text(HEADER + "PatientName -> remove\nname ~ /^(\\w|\\w\\w)+\\W/ -> remove\n")
    [diag] = errors(result)
    assert diag.code == "DC005"
    assert (Path(diag.span.file).name, diag.span.line, diag.span.column) == ("rules.deid", 4, 1)
    assert "0.2 s" in diag.message and "keywords" in diag.message
    assert "simplify" in diag.hint and "nested" in diag.hint


def test_a_name_pattern_that_finishes_in_time_selects_its_keywords(compile_text):
    result = compile_text(HEADER + "name ~ /^Patient(Name|ID)$/ -> remove\n")
    assert not errors(result)
    assert names.tags_matching_name("^Patient(Name|ID)$", "") == (0x00100010, 0x00100020)
    assert names.tags_matching_name("^patientname$", "i") == (0x00100010,)


@pytest.mark.parametrize("pattern", ["/a # not a group (/x", "/(?<a>x)/"])
def test_patterns_are_checked_with_their_flags(compile_text, pattern):
    """In verbose mode `# (` is a comment: the pattern is valid; so is the `regex` syntax that
    the runtime uses (named groups written (?<a>...))."""
    result = compile_text(HEADER + "collect PatientName as phi\n"
                          f"when StudyDescription ~ {pattern} {{\n  PatientID -> remove\n}}\n"
                          f"ImageComments -> clean phi, regex {pattern}\n")
    assert not errors(result), [d.render() for d in result.diagnostics]


@pytest.mark.parametrize("pattern", ["/a # (/", "/a(/x"])
def test_bad_patterns_are_still_refused(compile_text, pattern):
    result = compile_text(HEADER + "collect PatientName as phi\n"
                          f"when StudyDescription ~ {pattern} {{\n  PatientID -> remove\n}}\n"
                          f"ImageComments -> clean phi, regex {pattern}\n")
    assert [(d.code, d.span.line) for d in errors(result)] == [("DC005", 4), ("DC005", 7)]


def test_a_condition_pattern_carries_its_origin(compile_text):
    result = compile_text(HEADER + "when SeriesDescription ~ /scout/i {\n  PatientID -> remove\n}\n")
    [cond] = result.plan.conditions
    assert isinstance(cond, ValueMatches) and (cond.pattern, cond.flags) == ("scout", "i")
    assert (Path(cond.origin.file).name, cond.origin.line) == ("rules.deid", 3)
    assert cond.origin.selector == "SeriesDescription ~ /scout/i"
    # the same condition written twice is evaluated once (the origin does not count)
    twice = compile_text(HEADER + "when SeriesDescription ~ /scout/i {\n  PatientID -> remove\n}\n"
                         "when SeriesDescription ~ /scout/i {\n  PatientName -> remove\n}\n")
    assert len(twice.plan.conditions) == 1
