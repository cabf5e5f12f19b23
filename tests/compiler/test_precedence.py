"""Precedence: which rule decides an element (fixtures/precedence.txt, format described there).

Each case is compiled from a temp file with `compile_rules`, then every element is resolved with
`Dispatcher(plan).rule_for` — once by a Dispatcher shared by the case (so the memo is part of
what is tested) and once by a fresh one — and the winner's line is compared with the fixture.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom.datadict import tag_for_keyword

from deidc.compiler import compile_rules
from deidc.compiler.dispatch import Dispatcher

FIXTURE = Path(__file__).parent / "fixtures" / "precedence.txt"


@dataclass(frozen=True)
class Element:
    text: str  # the fixture line, for messages
    ancestry: tuple[tuple[int, str | None, int | None], ...]
    tag: int
    vr: str
    creator: str | None
    when: str | None  # "TF..", or None for all false
    expected: int | None


@dataclass(frozen=True)
class Case:
    title: str
    rules: str
    elements: tuple[Element, ...]


_STEP = re.compile(r"^(?P<ref>\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\)|[A-Za-z][A-Za-z0-9]*)(?:\[(?P<item>\d+)\])?$")


def _tag(ref: str) -> int:
    if ref.startswith("("):
        group, element = ref.strip("()").split(",")
        return (int(group, 16) << 16) | int(element, 16)
    tag = tag_for_keyword(ref)
    assert tag is not None, f"fixture names an unknown keyword {ref!r}"
    return tag


def parse_element(line: str) -> Element:
    left, expected = (part.strip() for part in line.rsplit("->", 1))
    words = shlex.split(left)
    path, vr, options = words[0], words[1], dict(w.split("=", 1) for w in words[2:])
    assert set(options) <= {"creator", "when"}, line
    steps = []
    for step in path.split("/"):
        m = _STEP.match(step)
        assert m, f"bad path step {step!r} in {line!r}"
        steps.append((_tag(m["ref"]), None if m["item"] is None else int(m["item"])))
    assert steps[-1][1] is None, f"the element itself takes no item index: {line!r}"
    ancestry = tuple((tag, None, 0 if item is None else item) for tag, item in steps[:-1])
    return Element(line, ancestry, steps[-1][0], vr, options.get("creator"), options.get("when"),
                   None if expected == "none" else int(expected))


def load_cases(text: str) -> list[Case]:
    cases = []
    for block in re.split(r"^=== ", text, flags=re.M)[1:]:
        title, _, body = block.partition("\n")
        _, _, rest = body.partition("--- rules\n")
        rules, _, elements = rest.partition("--- elements\n")
        parsed = tuple(parse_element(ln) for ln in elements.splitlines()
                       if ln.strip() and not ln.lstrip().startswith("#"))
        assert rules.strip() and parsed, f"case {title!r} needs rules and elements"
        cases.append(Case(title.strip(), rules.rstrip("\n") + "\n", parsed))
    return cases


CASES = load_cases(FIXTURE.read_text(encoding="utf-8"))


def _params():
    for case in CASES:
        yield pytest.param(case, id=case.title)


def _line(rule) -> int | None:
    return None if rule is None else rule.origin.line


@pytest.mark.parametrize("case", list(_params()))
def test_precedence(case, tmp_path):
    path = tmp_path / "rules.deid"
    path.write_text(case.rules, encoding="utf-8")
    result = compile_rules(path)
    assert result.errors == [], [d.render() for d in result.errors]
    plan = result.plan
    shared = Dispatcher(plan)
    numbered = "\n".join(f"{n:3} {ln}" for n, ln in enumerate(case.rules.splitlines(), 1))
    wrong = []
    for el in case.elements:
        conditions = (tuple(c == "T" for c in el.when) if el.when is not None
                      else (False,) * len(plan.conditions))
        assert len(conditions) == len(plan.conditions), f"{el.text}: the plan has {len(plan.conditions)} conditions"
        got_shared = shared.rule_for(el.ancestry, el.tag, el.vr, el.creator, conditions)
        got_fresh = Dispatcher(plan).rule_for(el.ancestry, el.tag, el.vr, el.creator, conditions)
        for how, rule in (("shared", got_shared), ("fresh", got_fresh)):
            if rule is not None:
                assert rule.origin.file == str(path)
            if _line(rule) != el.expected:
                wrong.append(f"{el.text}  [{how} dispatcher: line {_line(rule)}]")
    assert wrong == [], "rules:\n" + numbered + "\nwrong winners:\n  " + "\n  ".join(wrong)


# ---- the fixture reader itself ---------------------------------------------------------------


def test_fixture_reader():
    cases = load_cases(
        "=== t\n--- rules\ndefault -> keep\n\n--- elements\n"
        "# comment\nReferencedStudySequence[2]/(0019,1010) LO creator=\"A B\" when=TF -> 3\nPatientName PN -> none\n")
    assert len(cases) == 1
    case = cases[0]
    assert (case.title, case.rules) == ("t", "default -> keep\n")
    first, second = case.elements
    with pytest.raises(AssertionError):
        parse_element("NoSuchKeywordHere PN -> 1")
    assert first.ancestry == ((0x00081110, None, 2),)
    assert (first.tag, first.vr, first.creator, first.when, first.expected) == (0x00191010, "LO", "A B", "TF", 3)
    assert (second.tag, second.expected) == (0x00100010, None)


def test_fixture_has_cases_and_titles_are_unique():
    titles = [c.title for c in CASES]
    assert len(titles) >= 20 and len(set(titles)) == len(titles)
