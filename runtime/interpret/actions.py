"""One handler per Plan action: change one element of a dataset in place.

In: a `FileContext` (keys, per-file state, records), the dataset, the element's tag and VR, and
the Plan action. Out: the element changed (or removed) and, when its value really changed, the
action's name for the audit. Handlers never raise for odd values: a value an action cannot
transform safely (an unparseable date, a UID action on a non-UI) is emptied — fail closed — and
the audit says why. `QuarantineFile` is the one exception, and it stops the file.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from deidc.compiler.action_specs import ACTIONS
from deidc.compiler.plan import (
    CleanAction,
    CopyNewValueAction,
    DummyAction,
    EmptyAction,
    HashAction,
    KeepAction,
    LookupAction,
    Plan,
    PlanAction,
    PseudonymAction,
    QuarantineAction,
    RemapUidAction,
    RemoveAction,
    ReplaceAction,
    ShiftAction,
)
from deidc.dicom import BYTE_VRS, FLOAT_VRS, INT_VRS, NUMBER_VRS, elements_of
from deidc.runtime.interpret import pseudonyms
from deidc.runtime.interpret.dates import DateFormatError, shift_value
from deidc.runtime.text.element_text import element_texts, set_texts

MAX_LENGTH = {"AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "IS": 12, "LO": 64, "PN": 64,
              "SH": 16, "ST": 1024, "TM": 16, "UI": 64}


class QuarantineFile(Exception):
    """A rule decided this file must not be released."""


@dataclass
class FileContext:
    plan: Plan
    keys: dict[str, bytes]
    original_top: dict[int, str]  # top-level values shifts are keyed on, read before any change
    uid_map: dict[str, str] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)
    # (dataset, tag, source tag, audit path, rule): copies wait for the source's new value
    deferred_copies: list[tuple[Dataset, int, int, str, str]] = field(default_factory=list)
    # (dataset, tag, VR, clean action, audit path, rule): cleaned together, after the walk
    deferred_cleans: list[tuple[Dataset, int, str, CleanAction, str, str]] = field(default_factory=list)
    # (dataset, tag, seconds, audit path, rule): DA shifts, done for a whole batch at once (numpy)
    deferred_dates: list[tuple[Dataset, int, int, str, str]] = field(default_factory=list)
    where: tuple[str, str] = ("", "")  # audit path and rule of the element being handled
    dates_shifted: bool = False
    unknown_private: int = 0  # private elements that only `private *` / `default` decided
    note: str | None = None  # set by a handler to explain a fail-closed outcome
    warnings: list = field(default_factory=list)  # raised by this file's deferred work
    # detections of `clean ... detect` to review (review.jsonl): tag path, detector, confidence, words, applied
    reviews: list[dict] = field(default_factory=list)
    # (value space, identity of the original, new value, rule): every pseudonym, hash and lookup
    # value given, so the run can prove no two originals received the same one (release.py)
    issued: set[tuple[str, str, str, str]] = field(default_factory=set)

    def offset_seconds(self, name: str) -> int:
        if name not in self.offsets:
            spec = self.plan.shifts[name]
            source = self.original_top.get(spec.source_tag, "")
            amount = pseudonyms.shift_offset(self.keys[spec.key], source, spec.low, spec.high)
            self.offsets[name] = amount * (86400 if spec.unit == "days" else 1)
        return self.offsets[name]


def _empty_value(vr: str):
    return [] if vr == "SQ" else None


def _map_text(ctx: FileContext, ds: Dataset, tag: int, transform: Callable[[str], str]) -> bool:
    old = element_texts(ds, tag)
    new = [transform(v) if v.strip(" \x00") else v for v in old]
    if new == old:
        return False
    set_texts(ds, tag, new)
    return True


def _fail_closed(ctx: FileContext, ds: Dataset, tag: int, vr: str, why: str) -> bool:
    ctx.note = why
    ds[tag].value = _empty_value(vr)
    return True


def do_remove(ctx, ds, tag, vr, action) -> bool:
    del ds[tag]
    return True


def do_empty(ctx, ds, tag, vr, action) -> bool:
    elem = elements_of(ds)[tag]  # not converted: an emptied value need not be decoded first
    if (elem.length == 0) if isinstance(elem, RawDataElement) else elem.is_empty:
        return False
    elements_of(ds)[tag] = DataElement(tag, vr, _empty_value(vr))
    return True


def _typed(vr: str, text: str):
    if vr in INT_VRS:
        return int(text)
    if vr in FLOAT_VRS:
        return float(text)
    if vr in BYTE_VRS:
        return text.encode("ascii", "replace")
    return text


def do_replace(ctx, ds, tag, vr, action: ReplaceAction) -> bool:
    elem = ds[tag]
    if elem.VR and " or " not in elem.VR:
        vr = elem.VR  # a UN element pydicom converted to its dictionary VR takes values of that VR
    try:
        new = _typed(vr, action.value)
    except ValueError:
        return _fail_closed(ctx, ds, tag, vr, f"'{action.value}' does not fit VR {vr}; emptied")
    if elem.value == new:
        return False
    elem.value = new
    return True


def do_dummy(ctx, ds, tag, vr, action) -> bool:
    # A sequence stays as it is: PS3.15 D is "a non-zero length value", and a sequence's items
    # are de-identified by their own rules (the walk enters them, runtime/interpret/visit.py).
    if vr == "SQ":
        return False
    # Binary values and UIDs have no meaningful dummy: emptied.
    if vr in BYTE_VRS or vr not in ctx.plan.dummy_values:
        return do_empty(ctx, ds, tag, vr, action)
    return do_replace(ctx, ds, tag, vr, ReplaceAction(ctx.plan.dummy_values[vr]))


def do_copy(ctx, ds, tag, vr, action: CopyNewValueAction) -> bool:
    ctx.deferred_copies.append((ds, tag, action.source_tag, *ctx.where))
    return False  # counted when the copy is made, after the walk


def _limit(vr: str, text: str) -> str:
    return text[: MAX_LENGTH.get(vr, 64)]


def _issuing(ctx: FileContext, space: str, transform: Callable[[str], str]) -> Callable[[str], str]:
    """`transform`, recording what it gives each original (by a digest: the journal holding it
    needs no more identifiers than it has) in the value space `space`."""
    def issue(value: str) -> str:
        new = transform(value)
        identity = hashlib.sha256(value.strip(" \x00").encode("utf-8", "surrogateescape")).hexdigest()[:32]
        ctx.issued.add((space, identity, new, ctx.where[1]))
        return new
    return issue


def do_hash(ctx, ds, tag, vr, action: HashAction) -> bool:
    key, length = ctx.keys[action.key], min(MAX_LENGTH.get(vr, 64), 64)
    return _map_text(ctx, ds, tag, _issuing(ctx, f"hash using {action.key}",
                                            lambda v: pseudonyms.keyed_hash(key, v, length)))


def do_pseudonym(ctx, ds, tag, vr, action: PseudonymAction) -> bool:
    key = ctx.keys[action.key]
    return _map_text(ctx, ds, tag, _issuing(ctx, f'pseudonym "{action.template}" using {action.key}',
                                            lambda v: _limit(vr, pseudonyms.pseudonym(key, v, action.template))))


def do_lookup(ctx, ds, tag, vr, action: LookupAction) -> bool:
    values = element_texts(ds, tag)
    stripped = [v.strip(" \x00") for v in values]
    if all(v in action.table or not v for v in stripped):
        return _map_text(ctx, ds, tag, _issuing(ctx, f'lookup "{action.table_file}"',
                                                lambda v: action.table[v.strip(" \x00")]))
    ctx.note = "value not in lookup table; fallback applied"
    return HANDLERS[type(action.fallback)](ctx, ds, tag, vr, action.fallback) or True


TEXT_DATE_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC", "CS"})


def _shift_text_date(value: str, seconds: int) -> str:
    """A text value that starts with YYYYMMDD (private dates in LO/SH): shift that part."""
    return shift_value("DA", value[:8], seconds) + value[8:]


def do_shift(ctx, ds, tag, vr, action: ShiftAction) -> bool:
    seconds = ctx.offset_seconds(action.shift)
    if vr == "DA":
        ctx.deferred_dates.append((ds, tag, seconds, *ctx.where))
        return False  # counted when the batch's dates are shifted, after the walk
    if vr in ("DT", "TM"):
        shift = lambda v: shift_value(vr, v, seconds)  # noqa: E731
    elif vr in NUMBER_VRS:  # a date kept as seconds since the epoch
        elem = ds[tag]
        values = list(elem.value) if isinstance(elem.value, (MultiValue, list)) else [elem.value]
        if any(v is None for v in values):
            return False
        elem.value = [type(v)(v + seconds) for v in values] if len(values) > 1 else type(values[0])(values[0] + seconds)
        ctx.dates_shifted = True
        return True
    elif vr in TEXT_DATE_VRS:
        shift = lambda v: _shift_text_date(v, seconds)  # noqa: E731
    else:
        return _fail_closed(ctx, ds, tag, vr, f"date shift on VR {vr}; emptied")
    try:
        changed = _map_text(ctx, ds, tag, shift)
    except DateFormatError as err:
        return _fail_closed(ctx, ds, tag, vr, f"{err}; emptied")
    ctx.dates_shifted |= changed
    return changed


def do_clean(ctx, ds, tag, vr, action: CleanAction) -> bool:
    ctx.deferred_cleans.append((ds, tag, vr, action, *ctx.where))
    return False  # counted when the batch is cleaned, after the walk


def do_remap_uid(ctx, ds, tag, vr, action: RemapUidAction) -> bool:
    if vr != "UI":
        return _fail_closed(ctx, ds, tag, vr, f"UID remap on VR {vr}; emptied")
    key = ctx.keys[action.key]

    def remap(uid: str) -> str:
        old = uid.strip(" \x00")
        new = ctx.uid_map.get(old)
        if new is None:
            new = ctx.uid_map[old] = pseudonyms.remap_uid(key, old, action.root)
        return new

    return _map_text(ctx, ds, tag, remap)


def do_quarantine(ctx, ds, tag, vr, action: QuarantineAction) -> bool:
    raise QuarantineFile(action.reason)


def do_keep(ctx, ds, tag, vr, action) -> bool:
    return False


HANDLERS: dict[type, Callable[..., bool]] = {
    KeepAction: do_keep, RemoveAction: do_remove, EmptyAction: do_empty, ReplaceAction: do_replace,
    DummyAction: do_dummy, CopyNewValueAction: do_copy, HashAction: do_hash,
    PseudonymAction: do_pseudonym, LookupAction: do_lookup, ShiftAction: do_shift,
    RemapUidAction: do_remap_uid, QuarantineAction: do_quarantine, CleanAction: do_clean,
}

# Plan action class → the action's name in audits, from the declaration of the actions.
ACTION_NAMES: dict[type, str] = {spec.plan: spec.name for spec in ACTIONS}

if set(HANDLERS) != set(ACTION_NAMES):  # a declared action without a handler, or the reverse
    raise TypeError("runtime/interpret/actions.py HANDLERS and compiler/action_specs.py ACTIONS disagree: "
                      f"no handler for {sorted(c.__name__ for c in set(ACTION_NAMES) - set(HANDLERS))}, "
                      f"undeclared {sorted(c.__name__ for c in set(HANDLERS) - set(ACTION_NAMES))}")


def apply_action(ctx: FileContext, ds: Dataset, tag: int, vr: str, action: PlanAction) -> bool:
    """Run the handler for `action`; True when the element changed. A value the action cannot
    produce for this element (pydicom rejects it) empties the element instead: fail closed."""
    try:
        return HANDLERS[type(action)](ctx, ds, tag, vr, action)
    except QuarantineFile:
        raise
    except (ValueError, TypeError, OverflowError) as err:
        # the exception's text may quote the value: the audit names its type only
        return _fail_closed(ctx, ds, tag, vr, f"{ACTION_NAMES[type(action)]} failed on VR {vr} "
                                              f"({type(err).__name__}); emptied")
