"""Cross-check: `compile --show`, `diff` and `lint` see the precedence the runtime applies.

Guards the read-only tools against `compiler/dispatch.py` on every element of every case of
tests/compiler/fixtures/precedence.txt (the fixture test_precedence.py checks the dispatcher
against). For each element, with the `Dispatcher`'s winner as the truth:

- show: `format_plan` prints, per section of one specificity, the latest rule of each key. Read
  back, most specific section first, the latest applicable rule among the keys that cover the
  element (`private *` before `default`; VR and name keys for standard elements only) must be
  the winner. An element whose shown rule does not apply while earlier rules hide behind it
  ("+N earlier") cannot be decided from the listing and is left out (the test says how many).
- diff: the function diff resolves with (`_Side.resolve`, a Dispatcher per depth) gives the
  winner; and `diff_plans` against a copy whose every rule has another action reports each top-
  level attribute of its universe with the winner as its deciding rule (slow: ~0.3 s per case).
- lint: `LintContext.decide` (DL003/DL004/DL008) gives the winner for top-level standard
  elements at their dictionary VR; DL001 never calls a winner "never decides"; DL002 never says
  a winner loses, at its tag, to a rule that applies to the element.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import sibling_tests
from pydicom.datadict import dictionary_has_tag, keyword_dict, mask_match, tag_for_keyword

from deidc.compiler import compile_rules
from deidc.compiler.dispatch import Dispatcher, excluded, path_matches
from deidc.compiler.lint import LintContext, lint_file
from deidc.compiler.plan import Plan, PlanRule, ReplaceAction, Specificity
from deidc.dicom import dictionary_vrs
from deidc.tools.diff import _Side, _vr_of, diff_plans
from deidc.tools.show import format_plan

PRECEDENCE = sibling_tests.load("compiler/test_precedence.py", "crosscheck_precedence")
CASES, Case, Element = PRECEDENCE.CASES, PRECEDENCE.Case, PRECEDENCE.Element
UNDECIDED = object()  # show's listing cannot tell
DICTIONARY_TAGS = frozenset(keyword_dict.values())


def conditions_of(el: Element, plan: Plan) -> tuple[bool, ...]:
    return tuple(c == "T" for c in el.when) if el.when is not None else (False,) * len(plan.conditions)


def applies(rule: PlanRule, el: Element, conditions: tuple[bool, ...]) -> bool:
    levels = el.ancestry + ((el.tag, el.creator, None),)
    return ((rule.condition is None or conditions[rule.condition])
            and (rule.path is None or path_matches(rule.path, levels)) and not excluded(rule.excepts, levels, el.vr))


def shown_entries(plan: Plan, rules_file: Path) -> list[tuple[int, str, PlanRule, bool]]:
    """(specificity, key, rule, earlier rules hidden) for every rule line `format_plan` prints."""
    by_origin = {(str(r.origin), r.origin.selector): r for r in plan.rules}
    entries, specificity = [], None
    for line in format_plan(plan).splitlines():
        header = re.match(r"\[.+\] specificity (\d+):", line)
        if header or line.startswith("["):
            specificity = int(header[1]) if header else None
            continue
        left, found, right = line.rpartition(f" {rules_file}:")
        if specificity is None or not found:
            continue
        key = left.rsplit(" -> ", 1)[0].strip()
        number = right.split()[0]
        selector = re.search(r"  \[(.+?)\](?:  |$)", right)
        rule = by_origin[(f"{rules_file}:{number}", selector[1] if selector else key)]
        entries.append((specificity, key, rule, "earlier)" in right))
    return entries


def covers(key: str, specificity: int, el: Element) -> bool:
    """Whether a shown key is one the element falls under (what the key text says)."""
    tag, creator, standard = el.tag, el.creator, not (el.tag >> 16) & 1
    if specificity == Specificity.PATH:
        return True  # the key is the path's text: `applies` matches it
    if key.startswith("(") and '"' in key:  # (gggg,"CREATOR",xx)
        group, name, low = re.fullmatch(r'\((\w{4}),"(.*)",(\w\w)\)', key).groups()
        return creator == name and (group == "gggg" or int(group, 16) == tag >> 16) and int(low, 16) == tag & 0xFF
    if key.startswith('"'):
        return creator == key.strip('"')
    if specificity == Specificity.MASK:
        digits = key.strip("()").replace(",", "").lower()
        return all(d == "x" or int(d, 16) == (tag >> (28 - 4 * i)) & 0xF for i, d in enumerate(digits))
    if key.startswith("("):  # a tag, or a name pattern's tag
        return int(key.strip("()").replace(",", ""), 16) == tag and (specificity == Specificity.TAG or standard)
    if key == "unknown *":
        return standard and not dictionary_has_tag(tag) and mask_match(tag) is None
    if key in ("default", "private *"):
        return key == "default" or not standard
    return standard and key == el.vr  # a VR


def shown_winner(entries, el: Element, conditions) -> PlanRule | None | object:
    for level in sorted({s for s, *_ in entries}, reverse=True):
        found = [(k, r, hidden) for s, k, r, hidden in entries if s == level and covers(k, s, el)]
        if any(hidden and not applies(r, el, conditions) for _, r, hidden in found):
            return UNDECIDED
        live = [(k == "private *", r.id, r) for k, r, _ in found if applies(r, el, conditions)]
        if live:
            return max(live, key=lambda t: t[:2])[2]
    return None


def origin(rule: PlanRule | None) -> str | None:
    return None if rule is None else str(rule.origin)


@pytest.fixture
def compiled(tmp_path):
    def compile_case(case: Case) -> tuple[Path, Plan]:
        path = tmp_path / f"case{CASES.index(case)}.deid"  # a file each: lint caches per file
        path.write_text(case.rules, encoding="utf-8")
        result = compile_rules(path)
        assert result.errors == [], [d.render() for d in result.errors]
        return path, result.plan
    return compile_case


def dl002_claims(plan: Plan, findings) -> list[tuple[PlanRule, int, list[PlanRule], str]]:
    """DL002's messages read back: (the rule said to lose, at this tag, to these rules of `line`)."""
    claims = []
    for d in findings:
        loser = next(r for r in plan.rules if (r.origin.line, r.origin.column) == (d.span.line, d.span.column))
        for name, line in re.findall(r"(\w+) \(.+? -> .+?, line (\d+)\)", d.message):
            tag = tag_for_keyword(name)
            takers = [plan.rules[i] for i in plan.by_tag.get(tag, ())] + [plan.rules[i] for v, c, i in plan.masks
                                                                         if tag & c == v]
            claims.append((loser, tag, [r for r in takers if r.origin.line == int(line)], line))
    return claims


def test_show_diff_and_lint_agree_with_the_dispatcher(compiled):
    wrong, undecided, compared = [], 0, 0
    for case in CASES:
        path, plan = compiled(case)
        dispatcher, side, entries = Dispatcher(plan), _Side(plan), shown_entries(plan, path)
        lint = LintContext(path.resolve(), (), plan, [], plan, [])
        findings = lint_file(path)
        never = {(d.span.line, d.span.column) for d in findings if d.code == "DL001"}
        claims = dl002_claims(plan, [d for d in findings if d.code == "DL002"])
        for el in case.elements:
            compared += 1
            conditions = conditions_of(el, plan)
            winner = dispatcher.rule_for(el.ancestry, el.tag, el.vr, el.creator, conditions)
            where = f"{case.title}: {el.text}: dispatcher {origin(winner)}"
            views = {}
            shown = shown_winner(entries, el, conditions)
            undecided += shown is UNDECIDED
            if shown is not UNDECIDED:
                views["show"] = origin(shown)
            side.no_conditions = conditions  # diff resolves with every condition false; here the element's
            views["diff"] = side.describe(side.resolve(el.tag, el.vr, el.creator, el.ancestry))[0].origin
            if not el.ancestry and el.creator is None and not (el.tag >> 16) & 1 and not any(conditions) \
                    and el.vr == (sorted(dictionary_vrs(el.tag)) or ["UN"])[0]:
                views["lint decide"] = origin(lint.decide(el.tag))
            wrong += [f"{where}, {view} {got}" for view, got in views.items() if got != origin(winner)]
            if winner is not None and (winner.origin.line, winner.origin.column) in never:
                wrong.append(f"{where}, lint DL001 says it never decides an element")
            for loser, tag, takers, line in claims:
                live = [r for r in takers if tag == el.tag and (r.condition is None or conditions[r.condition])]
                if live and (winner is loser or not any(applies(r, el, conditions) for r in live)):
                    why = f"line {line} does not apply to it" if winner is not loser else "that one decides it"
                    wrong.append(f"{where}, lint DL002: line {line} takes it from line {loser.origin.line}; but {why}")
    assert not wrong, "views disagree with the dispatcher:\n" + "\n".join(wrong)
    assert undecided < compared / 4, f"show's listing decided too few elements ({undecided} of {compared} left out)"


@pytest.mark.slow
def test_diff_reports_the_dispatchers_winner_for_top_level_attributes(compiled):
    wrong = []
    for case in CASES:
        path, plan = compiled(case)
        relabelled = dataclasses.replace(plan, rules=[dataclasses.replace(r, action=ReplaceAction(f"rule {r.id}"))
                                                      for r in plan.rules])
        reported = {int(d.key[-10:-1].replace(",", ""), 16): d.a.origin
                    for d in diff_plans(plan, relabelled) if d.group == "tags"}
        dispatcher = Dispatcher(plan)
        for el in case.elements:
            conditions = conditions_of(el, plan)
            in_universe = el.tag in DICTIONARY_TAGS or el.tag in plan.by_tag
            if not in_universe or el.ancestry or el.creator is not None or any(conditions) or el.vr != _vr_of(el.tag):
                continue  # not a key of diff's universe as this element
            winner = origin(dispatcher.rule_for((), el.tag, el.vr, None, conditions))
            if reported.get(el.tag) != winner:
                wrong.append(f"{case.title}: {el.text}: dispatcher {winner}, diff {reported.get(el.tag)}")
    assert not wrong, "diff disagrees with the dispatcher:\n" + "\n".join(wrong)
