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
from functools import lru_cache

from pydicom.datadict import DicomDictionary, keyword_for_tag

from deidc.compiler.plan import Specificity
from deidc.compiler.show import format_action as _format
from deidc.dsl.diagnostics import Diagnostic

SHOWN = 4


def format_action(action) -> str:
    text = _format(action)
    return text[:1].lower() + text[1:]


@lru_cache(maxsize=None)
def _tags_with_vr(vr: str) -> tuple[int, ...]:
    return tuple(t for t, entry in DicomDictionary.items()
                 if not (t >> 16) & 1 and vr in {v.strip() for v in entry[0].split(" or ")})


def _name(tag: int) -> str:
    return keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def check(ctx):
    plan = ctx.plan
    rules = plan.rules
    selected = defaultdict(set)  # rule id -> dictionary tags it selects
    for tag, ids in plan.by_name.items():
        for rid in ids:
            selected[rid].add(tag)
    for vr, ids in plan.by_vr.items():
        for rid in ids:
            selected[rid].update(_tags_with_vr(vr))
    for value, care, rid in plan.masks:
        selected[rid].update(t for t in DicomDictionary if (t & care) == value)
    for rid, tags in sorted(selected.items()):
        rule = rules[rid]
        if not ctx.in_file(rule.origin):
            continue
        excluded = rule.excepts.tags if rule.excepts else frozenset()
        conflicts = []
        for tag in sorted(tags - excluded):
            better = list(plan.by_tag.get(tag, ()))
            if rule.specificity == Specificity.VR_OR_NAME:
                better += [m for v, c, m in plan.masks if (tag & c) == v]
            for other_id in sorted(better, reverse=True):
                other = rules[other_id]
                if other_id < rid and other.action != rule.action:
                    conflicts.append((tag, other))
                    break
        if not conflicts:
            continue
        shown = ", ".join(
            f"{_name(tag)} ({other.origin.selector} -> {format_action(other.action)}, line {other.origin.line}"
            + ("" if ctx.in_file(other.origin) else f" of {other.origin.file}") + ")"
            for tag, other in conflicts[:SHOWN])
        more = f" and {len(conflicts) - SHOWN} more" if len(conflicts) > SHOWN else ""
        yield Diagnostic(
            "warning", f"'{rule.origin.selector} -> {format_action(rule.action)}' is written later but "
                       f"loses to more specific rules: {shown}{more}",
            ctx.span(rule.origin),
            hint="the most specific selector wins whatever the order; write the exception after the "
                 "general rule, or change the specific rule")
