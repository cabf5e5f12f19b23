"""Cross-check: every Plan action is complete in every stage that handles actions.

Guards the action tables, however they are organised, by what they do. The classes come from the
unions (`compiler.plan.PlanAction`, `dsl.ast.Action`), the action words from the hint the parser
gives for an unknown action; EXAMPLES below writes one action text per word, every parameter
named. For every Plan action class there must be:

- an action word in the parser's "unknown action" hint, whose text parses to an AST node (one of
  `ast.Action`) that the printer (`dsl/printer.py action_text`) prints back to the same node and
  the compiler turns into that class — one AST class per Plan class;
- a runtime handler (`runtime/interpret/actions.py HANDLERS`) and a distinct audit name (`ACTION_NAMES`);
- VR rules: on attributes of a range of VRs the compiler accepts it on some, and wherever it
  refuses one (DC030), the diagnostic says which action, where, and how to fix it;
- lint DL007 counts the secrets and shifts the action names as used.

A new action missing from any of these fails here; a new action word in the hint without an
example here fails too, asking for one.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import get_args

import pytest

from deidc.compiler import compile_rules
from deidc.compiler.lint import lint_file
from deidc.compiler.plan import PlanAction
from deidc.diagnostics import DeidError
from deidc.dsl import ast
from deidc.dsl.parser import parse_text
from deidc.dsl.printer import action_text, strip_spans
from deidc.runtime.interpret.actions import ACTION_NAMES, HANDLERS

PLAN_ACTIONS = get_args(PlanAction)
AST_ACTIONS = get_args(ast.Action)
PARAMETERS = ("key", "site_key", "offset")
PREAMBLE = """\
version 1
key = secret("DEIDC_KEY")
site_key = secret("SITE_KEY")
offset = days(hmac(key, PatientID), -30..-1)
collect PatientName as phi
"""
# action word of the parser's hint -> action texts that start with it
EXAMPLES = {
    "keep": ["keep"], "remove": ["remove"], "empty": ["empty"], "dummy": ["dummy"],
    "replace": ['replace "ANONYMOUS"', "replace PatientID"],
    "hash": ["hash using site_key"],
    "pseudonym": ['pseudonym "ANON-{hmac:6}" using site_key'],
    "lookup": ['lookup "ids.csv" else hash using site_key'],
    "shift": ["shift offset"],
    "remap uid": ["remap uid using site_key"],
    "quarantine": ['quarantine "burned-in annotation"'],
    "clean": ["clean phi fuzzy 90, regex ssn, dates shift offset"],
}
# attributes of different VRs, to find where each action applies and where it is refused
TARGETS = ("PatientName", "PatientID", "StudyDate", "StudyTime", "StudyInstanceUID", "InstanceNumber", "Rows",
           "ImageComments", "ReferencedStudySequence", "PixelData")


def hinted_words() -> list[str]:
    """The action words of the hint an unknown action gets (`actions are keep, remove, ...; ...`)."""
    with pytest.raises(DeidError) as raised:
        parse_text("PatientName -> delete\n")
    hint = raised.value.diagnostics[0].hint or ""
    assert hint.startswith("actions are "), f"the unknown-action hint lists no actions: {hint!r}"
    return [word.strip() for word in hint.removeprefix("actions are ").split(";")[0].split(",")]


def compile_rule(folder: Path, target: str, text: str):
    (folder / "ids.csv").write_text("old,new\nA,B\n", encoding="utf-8")
    path = folder / "rules.deid"
    path.write_text(f"{PREAMBLE}{target} -> {text}\n", encoding="utf-8")
    return path, compile_rules(path)


@lru_cache(maxsize=None)
def examples(folder: Path) -> tuple[tuple[str, str, object, object], ...]:
    """(word, text, AST node, Plan action) for every example, compiled on the first target it fits."""
    out = []
    for word, texts in EXAMPLES.items():
        for text in texts:
            (rule,) = parse_text(f"PatientName -> {text}\n").statements
            for target in TARGETS:
                _, result = compile_rule(folder, target, text)
                if not result.errors:
                    out.append((word, text, rule.action, result.plan.rules[-1].action))
                    break
            else:
                pytest.fail(f"{text!r} compiles on none of {TARGETS}")
    return tuple(out)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("actions")


def test_the_hint_lists_the_action_words_written_here():
    assert sorted(hinted_words()) == sorted(EXAMPLES), "the parser's hint and EXAMPLES list other action words"


def test_ast_and_plan_actions_pair_one_to_one(folder):
    pairs = {(type(node), type(planned)) for _, _, node, planned in examples(folder)}
    assert {n for n, _ in pairs} == set(AST_ACTIONS), "AST action classes no hinted action text parses to"
    assert {p for _, p in pairs} == set(PLAN_ACTIONS), "Plan action classes no hinted action text compiles to"
    assert len(pairs) == len(AST_ACTIONS) == len(PLAN_ACTIONS), f"not one AST class per Plan class: {pairs}"


@pytest.mark.parametrize("plan_class", PLAN_ACTIONS, ids=lambda c: c.__name__)
def test_every_plan_action_is_complete(plan_class, folder):
    mine = [(w, t, n, p) for w, t, n, p in examples(folder) if type(p) is plan_class]
    assert mine, f"no action text of the parser's hint compiles to {plan_class.__name__}"
    assert plan_class in HANDLERS, "no runtime handler"
    assert isinstance(ACTION_NAMES.get(plan_class), str) and ACTION_NAMES[plan_class], "no audit name"
    assert list(ACTION_NAMES.values()).count(ACTION_NAMES[plan_class]) == 1, "audit name shared"
    for word, text, node, _ in mine:
        printed = action_text(node)
        assert printed.startswith(word), f"printer: {printed!r} for {text!r}"
        (again,) = parse_text(f"PatientName -> {printed}\n").statements
        assert strip_spans(again.action) == strip_spans(node), f"printer: {printed!r} does not parse back"
        accepted = []
        for target in TARGETS:
            _, result = compile_rule(folder, target, text)
            refusals = [d for d in result.diagnostics if d.code == "DC030"]
            accepted += [target] if not result.errors else []
            for d in refusals:
                assert target in d.message and d.message.partition("cannot apply")[0].strip() and d.hint, \
                    f"VR rules: {text!r} on {target}: {d.message!r} (hint {d.hint!r})"
        assert accepted, f"VR rules: {text!r} fits none of {TARGETS}"
        path, _ = compile_rule(folder, accepted[0], text)
        unused = " ".join(d.message for d in lint_file(path) if d.code == "DL007")
        named = [p for p in PARAMETERS if f" {p}" in f" {text} "]
        assert not [p for p in named if f"'{p}'" in unused], f"DL007 calls a parameter of {text!r} unused: {unused}"


def test_dl007_reports_parameters_no_action_names(folder):
    path, _ = compile_rule(folder, "PatientName", "keep")
    unused = " ".join(d.message for d in lint_file(path) if d.code == "DL007")
    assert all(f"'{p}'" in unused for p in ("site_key", "offset")), unused
