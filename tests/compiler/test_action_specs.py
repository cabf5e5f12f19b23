"""compiler/action_specs.py: one entry per action, and every stage agrees with it.

Each entry's `example` goes through the whole pipe: grammar alternative → AST node → `fmt`
printer → conversion → Plan class → `action_text` → audit name and runtime handler. A new action
missing from any of them fails here (the runtime and the table also check at import).
"""
from __future__ import annotations

from typing import get_args

import pytest

from deidc.compiler import compile_rules
from deidc.compiler.action_specs import (
    ACTIONS,
    BY_NAME,
    BY_NODE,
    BY_PLAN,
    action_parameters,
    action_text,
    nested_actions,
    spec_of,
    unresolve,
)
from deidc.compiler.plan import (
    CleanAction,
    CopyNewValueAction,
    HashAction,
    KeepAction,
    LookupAction,
    PlanAction,
    QuarantineAction,
    RemapUidAction,
    ShiftAction,
)
from deidc.dsl import ast
from deidc.dsl import parser as dsl_parser
from deidc.dsl.printer import action_text as ast_action_text
from deidc.dsl.printer import strip_spans
from deidc.resources import GRAMMAR_PATH
from deidc.runtime.interpret.actions import ACTION_NAMES, HANDLERS

PREAMBLE = """\
key = secret("DEIDC_KEY")
site_key = secret("SITE_KEY")
offset = days(hmac(key, PatientID), -30..-1)
collect PatientName as phi
"""
# an attribute each action fits (the first whose VR the action allows)
TARGETS = (("PatientName", "PN"), ("PatientID", "LO"), ("StudyDate", "DA"), ("StudyInstanceUID", "UI"))


def _target(spec) -> str:
    return next(k for k, vr in TARGETS if spec.vrs is None or vr in spec.vrs)


def _parse_action(text: str):
    (rule,) = dsl_parser.parse_text(f"PatientName -> {text}\n").statements
    return rule.action


def test_one_entry_per_grammar_alternative_ast_node_and_plan_class():
    aliases = {r.alias for r in dsl_parser._lark().rules if r.origin.name == "action"}
    assert sorted(s.grammar for s in ACTIONS) == sorted(aliases)
    assert set(BY_NODE) == set(get_args(ast.Action))
    assert set(BY_PLAN) == set(get_args(PlanAction))
    assert set(BY_PLAN) == set(ACTION_NAMES) == set(HANDLERS)
    assert len(BY_NAME) == len(BY_NODE) == len(BY_PLAN) == len(ACTIONS)


@pytest.mark.parametrize("spec", ACTIONS, ids=lambda s: s.name)
def test_example_parses_to_its_node_and_prints_back(spec):
    tree = dsl_parser._lark().parse(f"PatientName -> {spec.example}\n")
    assert tree.children[0].children[1].data == spec.grammar
    node = _parse_action(spec.example)
    assert type(node) is spec.node and spec_of(node) is spec
    assert ast_action_text(node) == spec.example


@pytest.mark.parametrize("spec", ACTIONS, ids=lambda s: s.name)
def test_example_compiles_to_its_plan_class_and_prints_back(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative rule file: the lookup's table path stays "ids.csv"
    (tmp_path / "ids.csv").write_text("old,new\nA,B\n", encoding="utf-8")
    (tmp_path / "rules.deid").write_text(f"{PREAMBLE}{_target(spec)} -> {spec.example}\n", encoding="utf-8")
    result = compile_rules("rules.deid")
    assert [d.render() for d in result.diagnostics] == []
    planned = result.plan.rules[-1].action
    assert type(planned) is spec.plan and spec_of(planned) is spec
    assert ACTION_NAMES[spec.plan] == spec.name
    assert action_text(planned) == spec.example
    # the printed node is the one the example parses to
    assert strip_spans(unresolve(planned)) == strip_spans(_parse_action(spec.example))


def test_parser_hint_names_every_action():
    keywords = dsl_parser.action_keywords(GRAMMAR_PATH.read_text(encoding="utf-8"))
    assert dsl_parser.HINTS["unknown action"] == "actions are " + ", ".join(keywords)
    starts = {next(k for k in sorted(keywords, key=len, reverse=True)
                   if s.example == k or s.example.startswith(k + " ")) for s in ACTIONS}
    assert starts == set(keywords)


@pytest.mark.parametrize("action, text", [
    (HashAction("key"), "hash"),
    (RemapUidAction("key", "2.25"), "remap uid"),
    (QuarantineAction("a rule quarantines files with this attribute"), "quarantine"),
    (QuarantineAction('say "no"'), 'quarantine "say \\"no\\""'),
    (CopyNewValueAction(0x00100020), "replace PatientID"),
    (CopyNewValueAction(0x00111234), "replace (0011,1234)"),
    (ShiftAction("offset"), "shift offset"),
    (CleanAction("phi", None, (), None), "clean phi"),
    (CleanAction("phi", 88, (), "remove"), "clean phi fuzzy 88, dates remove"),
    (LookupAction("tables/ids.csv", {"A": "B"}, LookupAction("more.csv", {}, KeepAction())),
     'lookup "tables/ids.csv" else lookup "more.csv" else keep'),
])
def test_action_text_leaves_out_compiler_defaults(action, text):
    assert action_text(action) == text


def test_parameters_follow_fallbacks():
    inner = HashAction("site_key")
    action = LookupAction("ids.csv", {}, inner)
    assert list(nested_actions(action)) == [action, inner]
    assert action_parameters(action) == {"site_key"}
    assert action_parameters(CleanAction("phi", 90, (), "shift", "offset")) == {"offset"}
    assert action_parameters(CleanAction("phi", 90, (), "remove")) == set()
    assert action_parameters(KeepAction()) == set()
