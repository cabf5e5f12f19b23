"""Plan → text, for `deidc compile --show` (stable, so two Plans can be compared)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from deidc.compiler.action_specs import BY_PLAN, action_text, nested_actions
from deidc.compiler.plan import (
    INDEXES,
    AllTrue,
    Keyed,
    LookupAction,
    Not,
    OcrRedactOp,
    PixelOp,
    Plan,
    PlanCondition,
    PlanRule,
    Present,
    RedactAllTextOp,
    RegionFillOp,
    RuleIndex,
    ValueIn,
    ValueMatches,
    index_contents,
)
from deidc.dicom import format_tag


def format_action(action: Any) -> str:
    """A Plan action as a rule file writes it (`replace PatientID`, `clean phi fuzzy 90`), a lookup
    with the rows its table holds; a pixel operation, which is no rule action, by its fields."""
    if type(action) in BY_PLAN:
        rows = [len(a.table) for a in nested_actions(action) if isinstance(a, LookupAction)]
        return action_text(action) + "".join(f" ({n} rows)" for n in rows)
    name = type(action).__name__
    args = [f"{f.name}={getattr(action, f.name)}" for f in fields(action)]
    return f"{name}({', '.join(args)})" if args else name


def format_condition(cond: PlanCondition) -> str:
    if isinstance(cond, ValueIn):
        values = sorted(cond.values)
        if len(values) == 1:
            return f"{format_tag(cond.tag)} = {values[0]!r}"
        return f"{format_tag(cond.tag)} in ({', '.join(repr(v) for v in values)})"
    if isinstance(cond, ValueMatches):
        return f"{format_tag(cond.tag)} ~ /{cond.pattern}/{cond.flags}"
    if isinstance(cond, Present):
        return f"exists {format_tag(cond.tag)}"
    if isinstance(cond, Not):
        return f"not ({format_condition(cond.item)})"
    joiner = " and " if isinstance(cond, AllTrue) else " or "
    return "(" + joiner.join(format_condition(c) for c in cond.items) + ")"


def _rule(key: str, rule: PlanRule, shadowed: int) -> str:
    extra = f"  [{rule.origin.selector}]" if rule.origin.selector != key else ""
    if rule.condition is not None:
        extra += f"  when #{rule.condition}"
    if rule.excepts is not None:
        extra += "  (with except)"
    if shadowed:
        extra += f"  (+{shadowed} earlier)"
    return f"{key:<36} -> {format_action(rule.action):<44} {rule.origin}{extra}"


def _private_key(key) -> str:
    group = "gggg" if key[0] is None else f"{key[0]:04X}"
    return f'({group},"{key[1]}",{key[2]:02X})'


# How a key of a keyed index prints.
_KEY_TEXT: dict[Keyed, Callable[[Any], str]] = {Keyed.TAG: format_tag, Keyed.PRIVATE_ELEMENT: _private_key, Keyed.CREATOR: lambda c: f'"{c}"',
             Keyed.VR: str}


def _entries(plan: Plan, index: RuleIndex) -> list[tuple[str, list[int]]]:
    """(printed key, rule ids best-first) per key of one index; paths and masks one per rule."""
    contents = index_contents(plan, index)
    if index.keyed is Keyed.NOTHING:
        assert index.selector is not None  # every catch-all has its selector text
        return [(index.selector, contents)]
    if index.keyed is Keyed.PATH:
        return [(plan.rules[rid].origin.selector, [rid]) for rid in contents]
    if index.keyed is Keyed.MASK:
        return [(plan.rules[rid].origin.selector, [rid]) for _, _, rid in contents]
    shown = _KEY_TEXT[index.keyed]
    return [(shown(k), contents[k]) for k in sorted(contents, key=_sort_key)]


def _sort_key(key):
    return key if isinstance(key, (int, str)) else str(key)  # a private element's key tuple: as text


def _sections(plan: Plan) -> list[str]:
    """One section per title, in precedence order; a section of several catch-alls (`default`,
    `private *`) lists them by selector text."""
    out = []
    for title in dict.fromkeys(index.title for index in INDEXES):
        indexes = sorted((index for index in INDEXES if index.title == title), key=lambda i: i.selector or "")
        entries = [(k, ids) for index in indexes for k, ids in _entries(plan, index) if ids]
        if entries:
            out.append(f"\n[{title}] specificity {int(indexes[0].specificity)}: the winning rule per key (later wins)")
            out.extend(_rule(k, plan.rules[ids[0]], len(ids) - 1) for k, ids in entries)
    return out


def format_plan(plan: Plan) -> str:
    out = [f"Plan from {', '.join(plan.sources)}", f"{len(plan.rules)} rules"]
    out.extend(_sections(plan))
    if plan.conditions:
        out.append("\n[conditions]")
        out.extend(f"#{i} {format_condition(c)}" for i, c in enumerate(plan.conditions))
    if plan.quarantines:
        out.append("\n[file quarantines]")
        out.extend(f"{q.reason!r} when #{q.condition} {q.origin}" for q in plan.quarantines)
    if plan.secrets:
        out.append("\n[secrets] (where they are read from; never their value)")
        out.extend(f"{name}: {s.kind} {s.name}" for name, s in sorted(plan.secrets.items()))
    if plan.shifts:
        out.append("\n[shifts]")
        out.extend(f"{name}: {s.unit} in {s.low}..{s.high} keyed by {s.key} on {format_tag(s.source_tag)}"
                   for name, s in sorted(plan.shifts.items()))
    if plan.collects:
        out.append("\n[PHI sets] (collect: attribute and the kind of PHI it gives)")
        for name, collection in sorted(plan.collects.items()):
            parts = ", ".join(f"{format_tag(t)} {k}" for t, k in sorted(collection.tags.items()))
            out.append(f"{name}: {parts}")
    if plan.pixels:
        out.append("\n[pixels] (burned-in text)")
        for rule in plan.pixels:
            when = f" when #{rule.condition}" if rule.condition is not None else ""
            ops = [pixel_op_text(op) for op in rule.ops]
            if rule.lossy_quality is not None:
                ops.append(f"allow lossy quality {rule.lossy_quality}")
            out.append(f"{'; '.join(ops)}{when}  {rule.origin}")
    if plan.markers:
        out.append("\n[markers]")
        out.append(f"DeidentificationMethod = {plan.markers.method!r}")
        out.extend(f"code {c.value} {c.meaning}" for c in plan.markers.codes)
    return "\n".join(out) + "\n"


def pixel_op_text(op: PixelOp) -> str:
    """A pixels statement as a rule file writes it."""
    if isinstance(op, OcrRedactOp):
        detect = f" detect {', '.join(op.detectors)}" if op.detectors else ""
        return f"ocr -> redact {op.phi} fuzzy {op.threshold}{detect}"
    if isinstance(op, RegionFillOp):
        return f"region {', '.join(map(str, op.box))} -> fill {op.value}"
    if isinstance(op, RedactAllTextOp):
        return f"redact all text in region {', '.join(map(str, op.box))}"
    return f"header regions -> fill {op.value}"
