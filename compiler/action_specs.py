"""Every action of the language, declared once.

In: nothing (a table). Out: `ACTIONS`, one `ActionSpec` per alternative of `?action` in
grammar.lark, and what the other stages read from it:

- the compiler (`compiler/actions.py`): which VRs an action can act on, and what DC030 says when
  a selector can select others;
- the runtime (`runtime/interpret/actions.py`): the action's name in audits (`ACTION_NAMES`), and a check
  at import that every declared action has a handler;
- lint DL007: the parameters (secrets, shifts) a Plan action names (`action_parameters`);
- anyone printing a Plan action (show, diff, lint, explain): its `.deid` text (`action_text`),
  written by the same printer `deidc fmt` uses, from the AST node the action was compiled from.

The parser cannot read this table (dsl/ sits below compiler/): its "unknown action" hint lists
the words the grammar itself starts actions with, and tests/compiler/test_action_specs.py checks
that grammar, AST, Plan, printer, conversion and handlers agree with the table, using each
entry's `example`.

A new action touches: grammar.lark (an alternative), dsl/ast.py (its node), dsl/parser.py (a
transformer method), dsl/printer.py (`action_text`), compiler/plan.py (its Plan class), one entry
here, compiler/actions.py (its conversion, unless it has no fields) and runtime/interpret/actions.py (its
handler).

AST nodes and Plan actions stay two sets of classes: the AST keeps what was written (spans,
omitted keys, keywords, relative table paths, the clean matchers in source order); the Plan
keeps resolved values (the default key and UID root filled in, tags as integers, the table read,
the matchers folded into fields). `unresolve` maps a Plan action back to the shortest AST node
that compiles to it, for printing.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, get_args

from pydicom.datadict import keyword_for_tag, tag_for_keyword

from deidc.compiler.plan import (
    CleanAction,
    CopyNewValueAction,
    DummyAction,
    EmptyAction,
    HashAction,
    KeepAction,
    LookupAction,
    PlanAction,
    PseudonymAction,
    QuarantineAction,
    RemapUidAction,
    RemoveAction,
    ReplaceAction,
    ShiftAction,
)
from deidc.diagnostics import Span
from deidc.dicom import DATE_VRS, NUMERIC_TEXT_VRS, TEXT_VRS
from deidc.dsl import ast, printer

DEFAULT_KEY = "key"  # the secret a keyed action uses without `using NAME`
DEFAULT_UID_ROOT = "2.25"  # `remap uid` without `root "..."`
DEFAULT_QUARANTINE_REASON = "a rule quarantines files with this attribute"  # `quarantine` alone

# hex or template text fits neither dates, UIDs, numbers nor ages
_KEYED_TEXT_VRS = TEXT_VRS - DATE_VRS - NUMERIC_TEXT_VRS - {"UI", "AS"}


@dataclass(frozen=True)
class ActionSpec:
    """One action: its names, its two classes, where it applies, what it names."""

    name: str  # in audits and messages (runtime ACTION_NAMES): "remap-uid"
    grammar: str  # its alternative's alias in grammar.lark (and the transformer method): "remap_uid"
    node: type  # its AST class (dsl/ast.py)
    plan: type  # its Plan class (compiler/plan.py)
    # .deid text of the action with every part written: parses to `node` and prints back
    # unchanged, compiles to `plan`, and `action_text` of that Plan action gives it again
    example: str
    unresolve: Callable[[Any], Any]  # Plan action → the shortest AST node (span NO_SPAN) giving it
    vrs: frozenset[str] | None = None  # the VRs it can act on; None: any
    misfit: str = ""  # DC030 when a VR does not fit: "{misfit} cannot apply to {selector} ({VRs})"
    misfit_hint: str = ""  # ... and how to fix it
    parameters: tuple[str, ...] = ()  # Plan fields that name a parameter (a secret or a shift)


# The span of an AST node `unresolve` makes: it was never written (line 0 prints as the file only).
NO_SPAN = Span("", 0, 0, 0, 0)


def _key(key: str) -> str | None:
    return None if key == DEFAULT_KEY else key


def _replace_from(p: CopyNewValueAction) -> ast.ReplaceFrom:
    keyword = keyword_for_tag(p.source_tag)
    if keyword and tag_for_keyword(keyword) == p.source_tag:
        return ast.ReplaceFrom(ast.Keyword(keyword, NO_SPAN), NO_SPAN)
    return ast.ReplaceFrom(ast.Tag(p.source_tag >> 16, p.source_tag & 0xFFFF, NO_SPAN), NO_SPAN)


def _clean(p: CleanAction) -> ast.Clean:
    matchers: list[ast.CleanMatcher] = []
    if p.fuzzy is not None:
        matchers.append(ast.FuzzyMatcher(p.fuzzy, NO_SPAN))
    if p.patterns:
        matchers.append(ast.RegexMatcher(p.patterns, NO_SPAN))
    if p.dates is not None:
        matchers.append(ast.DateMatcher(p.date_shift if p.dates == "shift" else None, NO_SPAN))
    if p.detectors:
        matchers.append(ast.DetectMatcher(p.detectors, NO_SPAN))
    return ast.Clean(p.phi, tuple(matchers), NO_SPAN)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("keep", "keep", ast.Keep, KeepAction, "keep", lambda p: ast.Keep(NO_SPAN)),
    ActionSpec("remove", "remove", ast.Remove, RemoveAction, "remove", lambda p: ast.Remove(NO_SPAN)),
    ActionSpec("empty", "empty", ast.Empty, EmptyAction, "empty", lambda p: ast.Empty(NO_SPAN)),
    ActionSpec("dummy", "dummy", ast.Dummy, DummyAction, "dummy", lambda p: ast.Dummy(NO_SPAN)),
    ActionSpec("replace", "replace_constant", ast.ReplaceConstant, ReplaceAction, 'replace "ANONYMOUS"',
               lambda p: ast.ReplaceConstant(p.value, NO_SPAN)),
    ActionSpec("replace-from", "replace_from", ast.ReplaceFrom, CopyNewValueAction, "replace PatientID",
               _replace_from),
    ActionSpec(
        "hash", "keyed_hash", ast.KeyedHash, HashAction, "hash using site_key",
        lambda p: ast.KeyedHash(_key(p.key), NO_SPAN),
        vrs=_KEYED_TEXT_VRS, misfit="a keyed hash",
        misfit_hint="keyed hashes apply to text VRs; use `remap uid` for UIDs and `shift` for dates",
        parameters=("key",)),
    ActionSpec(
        "pseudonym", "pseudonym", ast.Pseudonym, PseudonymAction, 'pseudonym "ANON-{hmac:6}" using site_key',
        lambda p: ast.Pseudonym(p.template, _key(p.key), NO_SPAN),
        vrs=_KEYED_TEXT_VRS, misfit="a pseudonym",
        misfit_hint="pseudonyms apply to text VRs; use `remap uid` for UIDs",
        parameters=("key",)),
    ActionSpec(
        "lookup", "lookup", ast.Lookup, LookupAction, 'lookup "ids.csv" else remove',
        lambda p: ast.Lookup(p.table_file, unresolve(p.fallback), NO_SPAN),
        vrs=TEXT_VRS, misfit="a lookup", misfit_hint="lookup tables apply to text VRs"),
    ActionSpec(
        "shift", "shift", ast.Shift, ShiftAction, "shift offset", lambda p: ast.Shift(p.shift, NO_SPAN),
        vrs=DATE_VRS, misfit="a date shift",
        misfit_hint="date shifts apply to DA, DT and TM; use `empty` or `remove` here",
        parameters=("shift",)),
    ActionSpec(
        "remap-uid", "remap_uid", ast.RemapUid, RemapUidAction, 'remap uid root "1.2.826.0.1.3680043.10.1" using site_key',
        lambda p: ast.RemapUid(None if p.root == DEFAULT_UID_ROOT else p.root, _key(p.key), NO_SPAN),
        vrs=frozenset({"UI"}), misfit="UID remapping",
        misfit_hint="UID remapping applies to UI; use `hash` or `pseudonym` for other identifiers",
        parameters=("key",)),
    ActionSpec(
        "quarantine", "quarantine", ast.Quarantine, QuarantineAction, 'quarantine "burned-in annotation"',
        lambda p: ast.Quarantine(None if p.reason == DEFAULT_QUARANTINE_REASON else p.reason, NO_SPAN)),
    ActionSpec(
        "clean", "clean", ast.Clean, CleanAction, "clean phi fuzzy 90, regex ssn, /MRN\\d+/i, dates shift offset",
        _clean,
        # free text, coded text the clean-descriptors option names (AE, CS), and SR/binary content
        vrs=(TEXT_VRS - DATE_VRS - {"UI"}) | {"SQ", "OB", "UN"}, misfit="clean",
        misfit_hint="clean applies to free text (LO, SH, ST, LT, UT, UC, PN) and SR content",
        parameters=("date_shift",)),
)

BY_NAME: dict[str, ActionSpec] = {s.name: s for s in ACTIONS}
BY_NODE: dict[type, ActionSpec] = {s.node: s for s in ACTIONS}
BY_PLAN: dict[type, ActionSpec] = {s.plan: s for s in ACTIONS}


def spec_of(action: object) -> ActionSpec:
    """The declaration of an AST node or a Plan action."""
    spec = BY_PLAN.get(type(action)) or BY_NODE.get(type(action))
    if spec is None:
        raise TypeError(f"not an action: {action!r}")
    return spec


def unresolve(action: PlanAction) -> ast.Action:
    """The shortest AST node (spans None) that compiles to this Plan action."""
    node: ast.Action = BY_PLAN[type(action)].unresolve(action)
    return node


def action_text(action: PlanAction) -> str:
    """A Plan action as a rule file writes it: `replace PatientID`, `clean phi fuzzy 90`,
    `lookup "tables/ids.csv" else quarantine "not in the table"`. Defaults filled in by the
    compiler are left out (`hash`, not `hash using key`); a lookup shows its table's path as
    the Plan holds it, not its rows."""
    return printer.action_text(unresolve(action))


def nested_actions(action: PlanAction) -> Iterator[PlanAction]:
    """The action, then the actions it holds (a lookup's fallback), depth first."""
    yield action
    for f in dataclasses.fields(action):
        value = getattr(action, f.name)
        if type(value) in BY_PLAN:
            yield from nested_actions(value)


def action_parameters(action: PlanAction) -> set[str]:
    """The parameters (secrets and shifts, by name) the action and its fallbacks name."""
    used: set[str] = set()
    for a in nested_actions(action):
        used |= {value for name in BY_PLAN[type(a)].parameters if (value := getattr(a, name))}
    return used


def _check_complete() -> None:
    """Every AST action node and every Plan action class is declared exactly once."""
    for what, union, declared in (("AST", ast.Action, [s.node for s in ACTIONS]),
                                  ("Plan", PlanAction, [s.plan for s in ACTIONS])):
        classes = set(get_args(union))
        if len(declared) != len(set(declared)) or set(declared) != classes:
            raise TypeError(f"compiler/action_specs.py ACTIONS does not declare each {what} action once: "
                            f"missing {sorted(c.__name__ for c in classes - set(declared))}")


_check_complete()
