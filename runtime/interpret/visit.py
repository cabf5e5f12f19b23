"""The one traversal of a dataset's elements: the walk changes them, `explain` reports them and
`collect` reads them, each by overriding the hooks of `ElementVisitor`, so they cannot drift
apart. The order and every decision are made here; what is done at an element is the hook's.

In: a pydicom Dataset, and a `Dispatcher` with the truth values of the Plan's conditions for it.
Out: calls to the hooks, in file order, depth first. `visit_file(ds)` takes the file meta first
(group 0002, at the top level, no sequence entered): `owned_meta` for the elements deidc writes
itself (`FILE_META_OWNED`: no rule decides them), `meta_element` with its rule for the others.
Then `visit(ds, ())`, for each element of a dataset, over a copy of its tags (a hook may delete
the element it is given):

- a group length (gggg,0000) → `group_length`;
- a private creator (odd gggg, 0010-00ff) → `private_creator`; creators follow their blocks (below);
- any other element → `element(ds, ancestry, tag, vr, creator, rule)`: a private data element's
  creator is looked up in its block (once per block and dataset), the VR read from the raw element
  (`vr_of`), the rule decided with the element's ancestry (`Dispatcher.rule_for`);
- a sequence (VR SQ) whose rule is none, `keep`, `clean` or `dummy` is entered: each item is
  visited with the level (tag, creator, item index) added to its ancestry (`dummy` on a sequence
  is PS3.15's D, "a non-zero length value": the items stay, their elements de-identified by their
  own rules). Any other rule changes the sequence as a whole. After the items of a sequence the
  rules `clean`, `deferred_clean` for every free-text element left in them, at any depth, once
  their own rules have run.

After a dataset's elements, `dead_creator` for each private creator whose block no longer holds a
data element (during the walk: its last one was removed).

`OriginalValuesVisitor` is the same traversal before any rule has run (for `collect`): nothing is
decided yet, so every sequence is entered (PHI in a sequence the rules remove is PHI all the same)
but a collected one, and sequences are told from the raw elements as the fast engine's header scan
tells them (`runtime/codec/rawscan.py` must find the same values).
"""
from __future__ import annotations

from collections.abc import Container

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidc.compiler.dispatch import Dispatcher, Level
from deidc.compiler.file_meta import FILE_META_OWNED
from deidc.compiler.plan import CleanAction, DummyAction, KeepAction, PlanRule
from deidc.dicom import FREE_TEXT_VRS, dictionary_vr, elements_of
from deidc.runtime.codec.rawread import IMPLICIT_SEQUENCES, UNDEFINED


def vr_of(ds: Dataset, tag: int) -> str:
    """The element's VR, read from the raw element without converting it when it says."""
    raw = elements_of(ds)[tag]
    if raw.VR is not None:
        return raw.VR
    vr = dictionary_vr(tag)
    if vr is None:
        return ds[tag].VR  # private or unknown in implicit VR: let pydicom decide (SQ or UN)
    return vr


def creator_of(ds: Dataset, group: int, block: int) -> str | None:
    """The private creator of block (group, 0x10-0xFF) of `ds`, upper-case; None when it has none."""
    raw = elements_of(ds).get((group << 16) | block)
    if raw is not None and getattr(raw, "is_raw", False) and isinstance(raw.value, bytes) and raw.value.isascii() \
            and b"\\" not in raw.value:  # plain ASCII: read it without converting the element
        return raw.value.decode("ascii").strip(" \x00").upper()
    elem = ds.get((group << 16) | block)
    if elem is None or elem.value is None:
        return None
    return str(elem.value).strip(" \x00").upper()


class ElementVisitor:
    """Visits the elements of a dataset as the walk decides them; subclasses override the hooks
    (each does nothing here). A hook may delete the element it is given, and nothing else."""

    def __init__(self, dispatcher: Dispatcher, conditions: tuple[bool, ...]):
        self.conditions = conditions
        self.decide = dispatcher.rule_for  # (ancestry, tag, vr, creator, conditions, context) -> rule
        self.context_of = dispatcher.context_of
        self.vr_of = vr_of

    # ---- hooks -------------------------------------------------------------------------------

    def owned_meta(self, meta: Dataset, tag: int) -> None:
        """A file meta element deidc writes itself."""

    def meta_element(self, meta: Dataset, tag: int, vr: str, rule: PlanRule | None) -> None:
        """Any other file meta element, with the rule that decides it (None: no rule applies)."""

    def group_length(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int) -> None:
        """A group length (gggg,0000)."""

    def private_creator(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int) -> None:
        """A private creator element, in its place (kept or not: see `dead_creator`)."""

    def element(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int, vr: str, creator: str | None,
                rule: PlanRule | None) -> None:
        """Any other element, with the rule that decides it (None: no rule applies). A sequence it
        leaves in place is entered afterwards when the rule is none, `keep`, `clean` or `dummy`."""

    def deferred_clean(self, item: Dataset, ancestry: tuple[Level, ...], tag: int, vr: str, rule: PlanRule) -> None:
        """A free-text element left in an item (at any depth) of a sequence `rule` cleans."""

    def dead_creator(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int) -> None:
        """A private creator whose block holds no data element after the dataset's elements."""

    # ---- the traversal -----------------------------------------------------------------------

    def visit_file(self, ds: Dataset) -> None:
        """The file meta, then the dataset."""
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            self.visit_meta(meta)
        self.visit(ds, ())

    def visit_meta(self, meta: Dataset) -> None:
        decide, vr_of_, conditions, context = self.decide, self.vr_of, self.conditions, self.context_of(())
        for tag in list(elements_of(meta)):
            if tag in FILE_META_OWNED:
                self.owned_meta(meta, tag)
                continue
            vr = vr_of_(meta, tag)
            self.meta_element(meta, tag, vr, decide((), tag, vr, None, conditions, context))

    def visit(self, ds: Dataset, ancestry: tuple[Level, ...]) -> None:
        creators: dict[int, str | None] = {}  # (group << 8 | block) -> creator, upper-case
        creator_tags: list[int] = []
        live_blocks: set[int] = set()
        decide, vr_of_, element = self.decide, self.vr_of, self.element
        conditions, context = self.conditions, self.context_of(ancestry)
        elements = elements_of(ds)
        for tag in list(elements):
            group, number = tag >> 16, tag & 0xFFFF
            if number == 0:
                self.group_length(ds, ancestry, tag)
                continue
            creator = None
            if group & 1:
                if 0x10 <= number <= 0xFF:
                    creator_tags.append(tag)
                    self.private_creator(ds, ancestry, tag)
                    continue
                if number >= 0x1000:
                    block = (group << 8) | (number >> 8)
                    if block not in creators:
                        creators[block] = creator_of(ds, group, number >> 8)
                    creator = creators[block]
            vr = vr_of_(ds, tag)
            rule = decide(ancestry, tag, vr, creator, conditions, context)
            element(ds, ancestry, tag, vr, creator, rule)
            if vr == "SQ":
                kind = type(rule.action) if rule is not None else None
                if kind is None or kind is KeepAction or kind is CleanAction or kind is DummyAction:
                    self._items(ds, tag, creator, ancestry)
                    if rule is not None and kind is CleanAction:
                        self._clean_items(ds, tag, rule, ancestry)
            if creator is not None and tag in elements:
                live_blocks.add((group << 8) | (number >> 8))
        for creator_tag in creator_tags:
            if ((creator_tag >> 16) << 8 | (creator_tag & 0xFF)) not in live_blocks:
                self.dead_creator(ds, ancestry, creator_tag)

    def _items(self, ds: Dataset, tag: int, creator: str | None, ancestry: tuple[Level, ...]) -> None:
        value = ds[tag].value
        if isinstance(value, Sequence):
            for index, item in enumerate(value):
                self.visit(item, ancestry + ((tag, creator, index),))

    def _clean_items(self, ds: Dataset, tag: int, rule: PlanRule, ancestry: tuple[Level, ...]) -> None:
        """The free-text elements left in the sequence's items, at any depth."""
        value = ds[tag].value
        if not isinstance(value, Sequence):
            return
        for index, item in enumerate(value):
            level = ancestry + ((tag, None, index),)
            for inner in list(elements_of(item)):
                vr = self.vr_of(item, inner)
                if vr == "SQ":
                    self._clean_items(item, inner, rule, level)
                elif vr in FREE_TEXT_VRS:
                    self.deferred_clean(item, level, inner, vr, rule)


def vr_before_rules(ds: Dataset, tag: int) -> str | None:
    """The raw element's VR, with implicit VR sequences told as the fast engine's reader tells
    them (by the data dictionary, or by their undefined length): nothing is converted."""
    raw = elements_of(ds)[tag]
    if raw.VR is None and (tag in IMPLICIT_SEQUENCES or getattr(raw, "length", 0) == UNDEFINED):
        return "SQ"
    return raw.VR


class OriginalValuesVisitor(ElementVisitor):
    """The traversal before any rule has run, for `collect`: the same order (file order, depth
    first, items in order, over a copy of the tags), but nothing is decided yet, so nothing is
    set apart either: no group lengths or private creators, no creators looked up (ancestry
    levels carry None), no dispatch. `visit(ds, ())` (the dataset; the file meta is not read)
    calls `read_value` for the elements whose tag is in `read`, and enters every other sequence,
    told from the raw element (`vr_before_rules`) as the fast engine's header scan
    (`runtime/codec/rawscan.py`) tells it; the other hooks are not called."""

    def __init__(self, read: Container[int]):
        self.read = read

    def read_value(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int) -> None:
        """An element `read` names (a sequence among them is read, not entered)."""

    def visit_file(self, ds: Dataset) -> None:
        self.visit(ds, ())  # the file meta is not read

    def visit(self, ds: Dataset, ancestry: tuple[Level, ...]) -> None:
        read, read_value = self.read, self.read_value
        for tag in list(elements_of(ds)):
            if tag in read:
                read_value(ds, ancestry, tag)
            elif vr_before_rules(ds, tag) == "SQ":
                self._items(ds, tag, None, ancestry)
