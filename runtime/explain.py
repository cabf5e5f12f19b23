"""Plan × one dataset → which rule decides each element, and what it does to the value.

In: a Plan, its resolved keys and a pydicom Dataset (left unchanged). Out: an `Explanation`: the
quarantine reason (or None) and, for every element at any depth, its path, name, VR, the deciding
rule (origin and selector text), the precedence step that chose it, the action, and the value
before and after de-identification. The "after" values come from running the real
`DatasetDeidentifier` on a copy, so they are exactly what `deidc apply` would write.

The walk mirrors `runtime/walk.py`: the file meta first (group 0002, at the top level), then the
dataset, with the same ancestry levels, the same private-creator look-up and the same rule for
entering sequences (only when they are kept or no rule applies); private creator elements, group
lengths and the file meta elements deidc writes itself, which the runtime decides outside the
dispatcher, are listed with the step that decides them.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from pydicom.datadict import keyword_dict, keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from deidc.compiler.names import did_you_mean
from deidc.compiler.file_meta import FILE_META_OWNED
from deidc.compiler.plan import KeepAction, Plan, PlanRule, Specificity
from deidc.compiler.show import format_action
from deidc.runtime.conditions import evaluate_all
from deidc.runtime.dispatch import Dispatcher, Level
from deidc.runtime.walk import DatasetDeidentifier, _vr_of, format_path

MAX_VALUE_CHARS = 60
REMOVED = "(removed)"
ABSENT = "(absent)"
NOT_WRITTEN = "(quarantined: not written)"

STEP_NAMES = {
    Specificity.PATH: "path",
    Specificity.TAG: "tag",
    Specificity.PRIVATE_ELEMENT: "private element",
    Specificity.PRIVATE_BLOCK: "private creator block",
    Specificity.MASK: "mask",
    Specificity.UNKNOWN: "unknown element",
    Specificity.VR_OR_NAME: "VR or name",
    Specificity.DEFAULT: "default",
}
NO_RULE = "no rule: kept"
CREATOR_STEP = "private creator: kept while its block holds data"
GROUP_LENGTH_STEP = "group length: always removed"
FILE_META_STEP = "file meta: written by deidc"
ADDED_STEP = "added by deidc"


@dataclass(frozen=True)
class ElementExplanation:
    """One element: `rule` is "file:line" and `selector` the rule's selector text (None: no rule)."""

    path: str
    tag: int
    name: str  # keyword, or '"CREATOR" xx' for a private element
    vr: str
    creator: str | None
    rule: str | None
    selector: str | None
    step: str
    action: str
    before: str
    after: str


@dataclass(frozen=True)
class Explanation:
    quarantine: str | None  # the reason the file would be quarantined, or None
    elements: list[ElementExplanation]


class UnknownTag(ValueError):
    """A TAG argument that names no element of the file (the message has a did-you-mean)."""


def explain_dataset(plan: Plan, keys: dict[str, bytes], ds: Dataset) -> Explanation:
    """Explain every element of `ds` (not modified) under `plan`; `keys` as from `resolve_keys`."""
    deidentified = copy.deepcopy(ds)
    outcome = DatasetDeidentifier(plan, keys).deidentify(deidentified)
    after_ds = None if outcome.quarantine else deidentified
    conditions = evaluate_all(plan.conditions, ds)
    rows: list[ElementExplanation] = []
    dispatcher = Dispatcher(plan)
    _walk_meta(ds, dispatcher, conditions, after_ds, rows)
    _walk(ds, (), dispatcher, conditions, after_ds, rows)
    if after_ds is not None:
        seen = {row.path for row in rows}
        _added(after_ds, (), seen, rows)
    return Explanation(outcome.quarantine, rows)


def select(explanation: Explanation, tag_text: str) -> list[ElementExplanation]:
    """The rows a TAG argument names: a keyword or '(gggg,eeee)' (every depth) or a path as printed.

    Raises `UnknownTag` (with a did-you-mean when something is close) when nothing matches."""
    text = tag_text.strip()
    elements = explanation.elements
    if "/" in text or "[" in text:
        wanted = text.lower()
        rows = [r for r in elements if r.path.lower() == wanted]
        if rows:
            return rows
        hint = did_you_mean(wanted, [r.path for r in elements])
        raise UnknownTag(_message(f"no element at path {text} in this file", hint))
    tag = parse_tag(text)
    if tag is None:
        if text not in keyword_dict:
            raise UnknownTag(_message(f"unknown attribute '{text}'", did_you_mean(text, keyword_dict)))
        tag = keyword_dict[text]
    rows = [r for r in elements if r.tag == tag]
    if rows:
        return rows
    present = sorted({r.name for r in elements if not r.name.startswith('"')})
    raise UnknownTag(_message(f"{text} is not in this file", did_you_mean(text, present)))


def parse_tag(text: str) -> int | None:
    """'(0010,0010)', '0010,0010' or '00100010' → the tag; None for anything else."""
    m = re.fullmatch(r"\(?\s*([0-9a-fA-F]{4})\s*,?\s*([0-9a-fA-F]{4})\s*\)?", text)
    return None if m is None else (int(m.group(1), 16) << 16) | int(m.group(2), 16)


def display_value(elem) -> str:
    """An element's value as one short line: sequences by item count, bytes by length, multiple
    values joined by backslashes, cut to MAX_VALUE_CHARS with '…'."""
    value = elem.value
    if isinstance(value, Sequence):
        text = f"{len(value)} item(s)"
    elif isinstance(value, (bytes, bytearray)):
        text = f"<{len(value)} bytes>"
    elif isinstance(value, (MultiValue, list, tuple)):
        text = "\\".join(str(v) for v in value)
    elif value is None:
        text = ""
    else:
        text = str(value)
    text = text.replace("\n", " ").replace("\r", " ")
    if text == "":
        return "(empty)"
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _message(text: str, hint: str | None) -> str:
    return f"{text}; {hint}" if hint else text


def _name(tag: int, creator: str | None) -> str:
    group, element = tag >> 16, tag & 0xFFFF
    if group & 1:
        if 0x10 <= element <= 0xFF:
            return "Private Creator"
        if element >= 0x1000:
            return f'"{creator}" {element & 0xFF:02x}' if creator is not None else f"(no creator) {element & 0xFF:02x}"
        return "(private)"
    return keyword_for_tag(tag) or "(unknown)"


def _walk_meta(ds: Dataset, dispatcher: Dispatcher, conditions: tuple[bool, ...], after_ds: Dataset | None,
               rows: list[ElementExplanation]) -> None:
    """The file meta's elements: those deidc writes itself, and the others as the rules decide."""
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return
    after_meta = getattr(after_ds, "file_meta", None)
    for tag in list(meta._dict):
        vr = _vr_of(meta, tag)
        path, before = format_path((), tag), display_value(meta[tag])
        if after_ds is None:
            after = NOT_WRITTEN
        else:
            after = display_value(after_meta[tag]) if after_meta is not None and tag in after_meta._dict else REMOVED
        if tag in FILE_META_OWNED:
            rows.append(ElementExplanation(path, tag, _name(tag, None), vr, None, None, None, FILE_META_STEP,
                                           "Written by deidc", before, after))
        else:
            rows.append(_row(path, tag, vr, None, dispatcher.rule_for((), tag, vr, None, conditions), before, after))


def _walk(ds: Dataset, ancestry: tuple[Level, ...], dispatcher: Dispatcher, conditions: tuple[bool, ...],
          after_ds: Dataset | None, rows: list[ElementExplanation]) -> None:
    creators: dict[int, str | None] = {}
    for tag in list(ds._dict):
        group, element = tag >> 16, tag & 0xFFFF
        path = format_path(ancestry, tag)
        vr = _vr_of(ds, tag)
        before = display_value(ds[tag])
        after = _after(after_ds, ancestry, tag)
        if element == 0:
            rows.append(ElementExplanation(path, tag, "(group length)", vr, None, None, None,
                                           GROUP_LENGTH_STEP, "Remove", before, after))
            continue
        creator = None
        if group & 1:
            if 0x10 <= element <= 0xFF:
                rows.append(ElementExplanation(path, tag, _name(tag, None), vr, None, None, None,
                                               CREATOR_STEP, "Keep", before, after))
                continue
            if element >= 0x1000:
                block = (group << 8) | (element >> 8)
                if block not in creators:
                    creators[block] = DatasetDeidentifier._creator(ds, group, element >> 8)
                creator = creators[block]
        rule = dispatcher.rule_for(ancestry, tag, vr, creator, conditions)
        rows.append(_row(path, tag, vr, creator, rule, before, after))
        if vr == "SQ" and (rule is None or isinstance(rule.action, KeepAction)):
            value = ds[tag].value
            if isinstance(value, Sequence):
                for index, item in enumerate(value):
                    _walk(item, ancestry + ((tag, creator, index),), dispatcher, conditions, after_ds, rows)


def _row(path: str, tag: int, vr: str, creator: str | None, rule: PlanRule | None, before: str,
         after: str) -> ElementExplanation:
    if rule is None:
        return ElementExplanation(path, tag, _name(tag, creator), vr, creator, None, None, NO_RULE, "Keep",
                                  before, after)
    return ElementExplanation(path, tag, _name(tag, creator), vr, creator, str(rule.origin), rule.origin.selector,
                              STEP_NAMES[rule.specificity], format_action(rule.action), before, after)


def _after(after_ds: Dataset | None, ancestry: tuple[Level, ...], tag: int) -> str:
    """The element's value in the de-identified copy (same path: items keep their order)."""
    if after_ds is None:
        return NOT_WRITTEN
    ds = after_ds
    for level_tag, _, index in ancestry:
        if level_tag not in ds._dict:
            return REMOVED
        value = ds[level_tag].value
        if not isinstance(value, Sequence) or index is None or index >= len(value):
            return REMOVED
        ds = value[index]
    return display_value(ds[tag]) if tag in ds._dict else REMOVED


def _added(ds: Dataset, ancestry: tuple[Level, ...], seen: set[str], rows: list[ElementExplanation]) -> None:
    """Elements of the de-identified copy that the original lacks (the PS3.15 markers)."""
    for tag in list(ds._dict):
        path = format_path(ancestry, tag)
        if path not in seen:
            rows.append(ElementExplanation(path, tag, _name(tag, None), _vr_of(ds, tag), None, None, None,
                                           ADDED_STEP, "Add", ABSENT, display_value(ds[tag])))
            continue
        value = ds[tag].value
        if isinstance(value, Sequence):
            for index, item in enumerate(value):
                _added(item, ancestry + ((tag, None, index),), seen, rows)
