"""Plan × one dataset → which rule decides each element, and what it does to the value.

In: a Plan, its resolved keys and a pydicom Dataset (left unchanged). Out: an `Explanation`: the
quarantine reason (or None) and, for every element at any depth, its path, name, VR, the deciding
rule (origin and selector text), the precedence step that chose it, the action, and the value
before and after de-identification. The "after" values come from running the real
`DatasetDeidentifier` on a copy, so they are exactly what `deidc apply` would write.

The rows follow the walk's own traversal (`runtime/interpret/visit.py`, which `runtime/interpret/walk.py` uses too):
the file meta first (group 0002, at the top level), then the dataset, with the same ancestry
levels, the same private-creator look-up and the same sequences entered (no rule, `keep`, `dummy` or
`clean`). An element in the items of a sequence the rules `clean` is listed with its own rule,
and its step says when the sequence's `clean` follows. Private creator elements, group lengths and
the file meta elements deidc writes itself, which the runtime decides outside the dispatcher, are
listed with the step that decides them.
"""
from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from deidc.compiler.dispatch import Dispatcher, Level
from deidc.compiler.names import did_you_mean
from deidc.compiler.plan import INDEXES, KeepAction, Plan, PlanRule
from deidc.dicom import elements_of, keyword_tags
from deidc.runtime.interpret.conditions import evaluate_all
from deidc.runtime.interpret.visit import ElementVisitor, vr_of
from deidc.runtime.interpret.walk import DatasetDeidentifier, format_path
from deidc.tools.show import format_action

MAX_VALUE_CHARS = 60
REMOVED = "(removed)"
ABSENT = "(absent)"
NOT_WRITTEN = "(quarantined: not written)"

STEP_NAMES = {index.specificity: index.step for index in INDEXES}  # the precedence, declared once
NO_RULE = "no rule: kept"
KEEP = format_action(KeepAction())  # what is done to an element no rule decides
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
    found: str = ""  # what `clean` found and removed: kinds and matchers (`address:detect, name:exact`)


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
    explainer = _Explainer(Dispatcher(plan), conditions, after_ds)
    explainer.visit_file(ds)
    found = {c.path: c.note for c in outcome.changes if c.action == "clean" and c.note}
    rows = [dataclasses.replace(row, found=found[row.path]) if row.path in found else row for row in explainer.rows]
    if after_ds is not None:
        _added(after_ds, (), {row.path: row.vr for row in rows}, rows)
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
        keywords = keyword_tags()
        if text not in keywords:
            raise UnknownTag(_message(f"unknown attribute '{text}'", did_you_mean(text, keywords)))
        tag = keywords[text]
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


class _Explainer(ElementVisitor):
    """One row per element, in the walk's order (`runtime/interpret/visit.py`): the hooks only report."""

    def __init__(self, dispatcher: Dispatcher, conditions: tuple[bool, ...], after_ds: Dataset | None):
        super().__init__(dispatcher, conditions)
        self.after_ds = after_ds
        self.rows: list[ElementExplanation] = []
        self._row_at: dict[str, int] = {}  # path -> index in rows

    def owned_meta(self, meta: Dataset, tag: int) -> None:
        self._add(ElementExplanation(format_path((), tag), tag, _name(tag, None), vr_of(meta, tag), None, None,
                                     None, FILE_META_STEP, "Written by deidc", display_value(meta[tag]),
                                     self._meta_after(tag)))

    def meta_element(self, meta: Dataset, tag: int, vr: str, rule: PlanRule | None) -> None:
        self._add(_row(format_path((), tag), tag, vr, None, rule, display_value(meta[tag]), self._meta_after(tag)))

    def group_length(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int) -> None:
        vr = vr_of(ds, tag)
        self._add(ElementExplanation(format_path(ancestry, tag), tag, "(group length)", vr, None, None, None,
                                     GROUP_LENGTH_STEP, "Remove", display_value(ds[tag]),
                                     _after(self.after_ds, ancestry, tag)))

    def private_creator(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int) -> None:
        vr = vr_of(ds, tag)
        self._add(ElementExplanation(format_path(ancestry, tag), tag, _name(tag, None), vr, None, None, None,
                                     CREATOR_STEP, KEEP, display_value(ds[tag]), _after(self.after_ds, ancestry, tag)))

    def element(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int, vr: str, creator: str | None,
                rule: PlanRule | None) -> None:
        self._add(_row(format_path(ancestry, tag), tag, vr, creator, rule, display_value(ds[tag]),
                       _after(self.after_ds, ancestry, tag)))

    def deferred_clean(self, item: Dataset, ancestry: tuple[Level, ...], tag: int, vr: str, rule: PlanRule) -> None:
        """The element's own rule decided its row; unless that removed it, the sequence's `clean`
        follows (the walk cleans what its own rule left)."""
        index = self._row_at.get(format_path(ancestry, tag))
        if index is None or self.rows[index].after == REMOVED:
            return
        row = self.rows[index]
        self.rows[index] = dataclasses.replace(row, step=f"{row.step}, then its sequence's clean ({rule.origin})")

    def _add(self, row: ElementExplanation) -> None:
        self._row_at[row.path] = len(self.rows)
        self.rows.append(row)

    def _meta_after(self, tag: int) -> str:
        if self.after_ds is None:
            return NOT_WRITTEN
        after_meta = getattr(self.after_ds, "file_meta", None)
        return display_value(after_meta[tag]) if after_meta is not None and tag in elements_of(after_meta) else REMOVED


def _row(path: str, tag: int, vr: str, creator: str | None, rule: PlanRule | None, before: str,
         after: str) -> ElementExplanation:
    if rule is None:
        return ElementExplanation(path, tag, _name(tag, creator), vr, creator, None, None, NO_RULE, KEEP,
                                  before, after)
    return ElementExplanation(path, tag, _name(tag, creator), vr, creator, str(rule.origin), rule.origin.selector,
                              STEP_NAMES[rule.specificity], format_action(rule.action), before, after)


def _after(after_ds: Dataset | None, ancestry: tuple[Level, ...], tag: int) -> str:
    """The element's value in the de-identified copy (same path: items keep their order)."""
    if after_ds is None:
        return NOT_WRITTEN
    ds = after_ds
    for level_tag, _, index in ancestry:
        if level_tag not in elements_of(ds):
            return REMOVED
        value = ds[level_tag].value
        if not isinstance(value, Sequence) or index is None or index >= len(value):
            return REMOVED
        ds = value[index]
    return display_value(ds[tag]) if tag in elements_of(ds) else REMOVED


def _added(ds: Dataset, ancestry: tuple[Level, ...], seen: dict[str, str], rows: list[ElementExplanation]) -> None:
    """Elements of the de-identified copy that the original lacks (the PS3.15 markers). `seen`:
    path -> VR of the rows explained; only what the walk took for a sequence is looked into (one
    kept whole, such as a sequence stored as UN, still holds its items, which are not added)."""
    for tag in list(elements_of(ds)):
        path = format_path(ancestry, tag)
        if path not in seen:
            rows.append(ElementExplanation(path, tag, _name(tag, None), vr_of(ds, tag), None, None, None,
                                           ADDED_STEP, "Add", ABSENT, display_value(ds[tag])))
            continue
        if seen[path] != "SQ":
            continue
        value = ds[tag].value
        if isinstance(value, Sequence):
            for index, item in enumerate(value):
                _added(item, ancestry + ((tag, None, index),), seen, rows)
