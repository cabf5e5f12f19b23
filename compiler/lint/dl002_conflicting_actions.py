"""A broad rule written after a more specific rule with another action: the specific one wins.

What: a VR, name-pattern or mask rule that comes later in the file than a keyword, tag or mask
rule selecting some of the same attributes with a different action. The precedence model picks
the most specific selector first, whatever the order, so the later broad rule does not override.

Why: "later wins" holds only between rules of equal specificity; writing `vr PN -> remove` after
`PatientName -> keep` reads as if every name were removed, but PatientName is kept.

Bad:

    PatientName -> keep
    vr PN -> remove          # PatientName is still kept

Good:

    vr PN -> remove
    PatientName -> keep      # the exception, written after the general rule it refines
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydicom.datadict import keyword_for_tag

from deidc.compiler.action_specs import action_text
from deidc.compiler.dispatch import excluded
from deidc.compiler.plan import INDEXES, ElementKind, Keyed, Plan, PlanRule, RuleIndex, index_contents
from deidc.diagnostics import Diagnostic
from deidc.dicom import format_tag, listed_tags, listed_vrs, tags_with_vr

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


SHOWN = 4


def _name(tag: int) -> str:
    return keyword_for_tag(tag) or format_tag(tag)


# The indexes whose keys say which dictionary attributes their rules select (tags, VRs, masks).
DICTIONARY_INDEXES = tuple(index for index in INDEXES if ElementKind.STANDARD in index.applies_to
                           and index.keyed in (Keyed.TAG, Keyed.VR, Keyed.MASK))


def _selected(plan: Plan) -> dict[int, set[int]]:
    """Rule id -> the dictionary tags it selects."""
    selected: defaultdict[int, set[int]] = defaultdict(set)
    for index in DICTIONARY_INDEXES:
        contents = index_contents(plan, index)
        if index.keyed is Keyed.MASK:
            for value, care, rid in contents:
                selected[rid].update(t for t in listed_tags() if (t & care) == value)
            continue
        for key, ids in contents.items():
            tags = tags_with_vr(key) if index.keyed is Keyed.VR else (key,)
            for rid in ids:
                selected[rid].update(tags)
    return selected


def _rules_at(plan: Plan, index: RuleIndex, tag: int) -> list[int]:
    """The rules of one of DICTIONARY_INDEXES that select `tag`."""
    contents = index_contents(plan, index)
    if index.keyed is Keyed.MASK:
        return [rid for value, care, rid in contents if (tag & care) == value]
    if index.keyed is Keyed.VR:
        return [rid for vr in listed_vrs(tag) for rid in contents.get(vr, ())]
    return list(contents.get(tag, ()))


def _excepts(rule: PlanRule, tag: int) -> bool:
    """Whether the rule's `except` takes this top-level attribute out of it."""
    return rule.excepts is not None and any(
        excluded(rule.excepts, ((tag, None, None),), vr) for vr in listed_vrs(tag) or ("UN",))


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    plan = ctx.plan
    rules = plan.rules
    for rid, tags in sorted(_selected(plan).items()):
        rule = rules[rid]
        above = [index for index in DICTIONARY_INDEXES if index.specificity > rule.specificity]
        if not above or not ctx.in_file(rule.origin):  # a tag rule: nothing here ranks above it
            continue
        excluded = rule.excepts.tags if rule.excepts else frozenset()
        conflicts = []
        for tag in sorted(tags - excluded):
            better = [other for index in above for other in _rules_at(plan, index, tag)]
            for other_id in sorted(better, reverse=True):
                other = rules[other_id]
                if _excepts(other, tag):  # its `except` leaves this attribute to the others
                    continue
                if other_id < rid and other.action != rule.action:
                    conflicts.append((tag, other))
                    break
        if not conflicts:
            continue
        shown = ", ".join(
            f"{_name(tag)} ({other.origin.selector} -> {action_text(other.action)}, line {other.origin.line}"
            + ("" if ctx.in_file(other.origin) else f" of {other.origin.file}") + ")"
            for tag, other in conflicts[:SHOWN])
        more = f" and {len(conflicts) - SHOWN} more" if len(conflicts) > SHOWN else ""
        yield Diagnostic(
            "warning", f"'{rule.origin.selector} -> {action_text(rule.action)}' is written later but "
                       f"loses to more specific rules: {shown}{more}",
            ctx.span(rule.origin),
            hint="the most specific selector wins whatever the order; write the exception after the "
                 "general rule, or change the specific rule")
