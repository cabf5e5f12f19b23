"""`plan.PRECEDENCE`, the one declaration of the Plan's rule indexes and their order, and the
stages that read it: one rule per index is compiled and must land in that index only, be chosen
by the dispatcher, be printed by `--show` under the index's title, be reported by `diff` against
an empty file, and be found shadowed by DL001 when written twice.
"""
from __future__ import annotations

from dataclasses import fields

import pytest

from deidc.compiler import compile_rules
from deidc.compiler.dispatch import Dispatcher
from deidc.compiler.lint import lint_file
from deidc.compiler.plan import INDEXES, PRECEDENCE, Keyed, Plan, index_contents
from deidc.tools.diff import diff_plans
from deidc.tools.show import format_plan

# Per index: a rule that goes there and an element it decides (ancestry, tag, VR, creator).
SAMPLES = {
    "paths": ("*/PatientName -> remove", (((0x00081110, None, 0),), 0x00100010, "PN", None)),
    "by_tag": ("PatientName -> remove", ((), 0x00100010, "PN", None)),
    "by_private": ('(0019,"ACME",10) -> remove', ((), 0x00191010, "UN", "ACME")),
    "by_creator": ('private "ACME" { * -> remove }', ((), 0x00191011, "UN", "ACME")),
    "masks": ("(60xx,3000) -> remove", ((), 0x60003000, "OB", None)),
    "unknown_defaults": ("unknown * -> remove", ((), 0x00100011, "PN", None)),
    "by_vr": ("vr DA -> remove", ((), 0x00080020, "DA", None)),
    "by_name": ("name ~ /^PatientBirthName$/ -> remove", ((), 0x00101005, "PN", None)),
    "private_defaults": ("private * -> remove", ((), 0x00191010, "UN", "OTHER")),
    "defaults": ("default -> remove", ((), 0x00100020, "LO", None)),
}


def test_every_index_is_a_plan_field_named_once():
    names = [index.field for index in INDEXES]
    assert len(names) == len(set(names))
    assert set(names) <= {f.name for f in fields(Plan)}
    assert set(SAMPLES) == set(names), "add a sample rule for the new index"


def test_ranks_go_from_most_to_least_specific_and_tie_only_alike():
    specificities = [rank[0].specificity for rank in PRECEDENCE]
    assert specificities == sorted(specificities, reverse=True)
    for rank in PRECEDENCE:
        assert len({(index.specificity, index.applies_to) for index in rank}) == 1


def test_one_step_name_per_specificity():
    steps = {}
    for index in INDEXES:
        assert steps.setdefault(index.specificity, index.step) == index.step


def test_catch_alls_have_a_selector_and_keyed_indexes_are_told_apart():
    for index in INDEXES:
        assert (index.selector is not None) == (index.keyed is Keyed.NOTHING), index.field
    keyed = [(index.specificity, index.keyed) for index in INDEXES if index.keyed is not Keyed.NOTHING]
    assert len(keyed) == len(set(keyed))


@pytest.mark.parametrize("index", INDEXES, ids=lambda index: index.field)
def test_each_index_is_filled_dispatched_shown_diffed_and_linted(index, write_rules):
    text, (ancestry, tag, vr, creator) = SAMPLES[index.field]
    plan = compile_rules(write_rules("one.deid", text + "\n")).plan
    assert [i.field for i in INDEXES if index_contents(plan, i)] == [index.field]
    rule = Dispatcher(plan).rule_for(ancestry, tag, vr, creator, ())
    assert rule is plan.rules[0] and rule.specificity == index.specificity
    assert f"\n[{index.title}] specificity {int(index.specificity)}:" in format_plan(plan)
    empty = compile_rules(write_rules("empty.deid", "# nothing\n")).plan
    assert diff_plans(empty, plan) != []
    twice = write_rules("twice.deid", text + "\n" + text.replace("remove", "keep") + "\n")
    assert [(d.code, d.span.line) for d in lint_file(twice) if d.code == "DL001"] == [("DL001", 1)]
