"""Which rule decides an element: the Plan's precedence model, memoised.

In: a Plan and, per element, its ancestry (enclosing sequences), tag, VR, private creator and the
truth values of the Plan's conditions for this dataset. Out: the deciding `PlanRule` (or None:
nothing applies and the element is kept). The first resolution of a key walks the Plan's indexes
in the order `plan.PRECEDENCE` declares; every later element with the same key is one dictionary
look-up, so tags that only masks, VRs or patterns match cost nothing after their first sighting.

Whether a standard element is one pydicom's data dictionary does not know (for `unknown *`) is
asked of the dictionary, once per tag, on the tag's first sighting. The file meta elements deidc
writes itself (`FILE_META_OWNED`) are never dispatched: the walk leaves them out.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache, partial
from typing import Any

from pydicom.datadict import dictionary_has_tag, mask_match

from deidc.compiler.plan import (
    INDEXES,
    PRECEDENCE,
    AnyDepthPattern,
    ElementKind,
    ElementPattern,
    ExceptPatterns,
    Keyed,
    MaskPattern,
    PathPattern,
    Plan,
    PlanRule,
    PrivatePattern,
    RuleIndex,
    TagPattern,
    index_contents,
)

# One level of an element's path: (tag, private creator or None, item index or None).
Level = tuple[int, "str | None", "int | None"]
# What of an element's ancestry the memo keys on (`Dispatcher.context_of`): nothing, the enclosing
# sequences (tag, creator), or the whole levels.
Context = tuple[tuple[int, "str | None"], ...] | tuple[Level, ...]
# An element's candidates in one index: f(tag, vr, creator) -> rule ids, best first.
Lookup = Callable[[int, str, "str | None"], Sequence[int]]


def element_matches(pattern: ElementPattern, tag: int, creator: str | None) -> bool:
    if isinstance(pattern, TagPattern):
        return pattern.tag == tag
    if isinstance(pattern, MaskPattern):
        return (tag & pattern.care) == pattern.value
    if isinstance(pattern, PrivatePattern):
        return (creator is not None and creator == pattern.creator
                and (pattern.group is None or pattern.group == tag >> 16)
                and (pattern.low_byte is None or pattern.low_byte == tag & 0xFF))
    raise TypeError(pattern)


@lru_cache(maxsize=4096)
def unknown_standard(tag: int) -> bool:
    """A standard-group (even) element that pydicom's data dictionary does not know: no entry, and
    no repeating-group entry such as (60xx,3000) or (50xx,0010) either."""
    return not (tag >> 16) & 1 and not dictionary_has_tag(tag) and mask_match(tag) is None


def path_matches(path: PathPattern, levels: tuple[Level, ...]) -> bool:
    """`levels` = the enclosing sequences (with the item index taken) and then the element."""
    steps = path.steps

    def match(i: int, j: int) -> bool:
        if i == len(steps):
            return j == len(levels)
        step = steps[i]
        if isinstance(step, AnyDepthPattern):
            if i == len(steps) - 1:  # trailing `*`: everything below, one level or more
                return len(levels) - j >= 1
            return any(match(i + 1, k) for k in range(j, len(levels)))
        if j >= len(levels):
            return False
        tag, creator, index = levels[j]
        if not element_matches(step.element, tag, creator):
            return False
        if step.item is not None and (j == len(levels) - 1 or index != step.item):
            return False
        return match(i + 1, j + 1)

    return match(0, 0)


def excluded(ex: ExceptPatterns | None, levels: tuple[Level, ...], vr: str) -> bool:
    if ex is None:
        return False
    tag, creator, _ = levels[-1]
    return (tag in ex.tags or vr in ex.vrs
            or any((tag & m.care) == m.value for m in ex.masks)
            or any(element_matches(p, tag, creator) for p in ex.privates)
            or any(path_matches(p, levels) for p in ex.paths))


class Dispatcher:
    """Resolves elements to rules for one Plan; keep one per process (the memo is shared)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.rules = plan.rules
        self._memo: dict[tuple[Context, int, str, str | None, tuple[bool, ...]], PlanRule | None] = {}
        self._lookups: dict[RuleIndex, Lookup] = {}
        # per kind of element, per rank of the precedence: the candidate look-ups of the indexes
        # that hold rules for that kind
        self._ranks = {kind: self._ranks_for(kind) for kind in ElementKind}
        # whether some rule decides unknown standard elements otherwise than known ones
        self._asks_dictionary = self._ranks[ElementKind.STANDARD] != self._ranks[ElementKind.UNKNOWN]
        uses_paths = any(index.keyed is Keyed.PATH and index_contents(plan, index) for index in INDEXES)
        uses_paths = uses_paths or any(r.excepts and r.excepts.paths for r in plan.rules)
        self._ancestry_mode = 2 if plan.indexed_paths else (1 if uses_paths else 0)

    def _ranks_for(self, kind: ElementKind) -> list[tuple[Lookup, ...]]:
        """Per rank, the functions that give an element's candidates (best first) in the indexes
        that apply to this kind of element and hold rules; ranks with none are left out."""
        ranks = []
        for rank in PRECEDENCE:
            lookups = tuple(self._lookup(index) for index in rank
                            if kind in index.applies_to and index_contents(self.plan, index))
            if lookups:
                ranks.append(lookups)
        return ranks

    def _lookup(self, index: RuleIndex) -> Lookup:
        if index not in self._lookups:  # one per index, shared by the kinds of element
            contents = index_contents(self.plan, index)
            if index.keyed is Keyed.PATH:
                self._lookups[index] = _PathLookup(contents, self.rules)
            else:
                self._lookups[index] = partial(_LOOKUPS[index.keyed], contents)
        return self._lookups[index]

    def context_of(self, ancestry: tuple[Level, ...]) -> Context:
        """The part of an element's ancestry the Plan's rules can tell apart (memo key part):
        nothing, the enclosing sequences, or those with their item indexes."""
        mode = self._ancestry_mode
        if mode == 0:
            return ()
        if mode == 1:
            return tuple((t, c) for t, c, _ in ancestry)
        return ancestry

    def rule_for(self, ancestry: tuple[Level, ...], tag: int, vr: str, creator: str | None,
                 conditions: tuple[bool, ...], context: Context | None = None) -> PlanRule | None:
        """`context`: `context_of(ancestry)`, when the caller has it for a whole dataset."""
        if context is None:
            context = self.context_of(ancestry)
        key = (context, int(tag), vr, creator, conditions)  # int: BaseTag compares in Python
        try:
            return self._memo[key]
        except KeyError:
            rule = self._resolve(ancestry + ((tag, creator, None),), vr, conditions)
            self._memo[key] = rule
            return rule

    def _kind(self, tag: int) -> ElementKind:
        if (tag >> 16) & 1:
            return ElementKind.PRIVATE
        if self._asks_dictionary and unknown_standard(tag):
            return ElementKind.UNKNOWN
        return ElementKind.STANDARD

    def _candidates(self, tag: int, vr: str, creator: str | None) -> Iterator[Sequence[int]]:
        """Rule-id lists, one per rank in precedence order (each list best-first; the rules of
        indexes that tie are merged, the later written first)."""
        for lookups in self._ranks[self._kind(tag)]:
            if len(lookups) == 1:
                yield lookups[0](tag, vr, creator)
            else:
                yield sorted([rid for lookup in lookups for rid in lookup(tag, vr, creator)], reverse=True)

    def _resolve(self, levels: tuple[Level, ...], vr: str, conditions: tuple[bool, ...]) -> PlanRule | None:
        tag, creator, _ = levels[-1]
        for ids in self._candidates(tag, vr, creator):
            for rid in ids:
                rule = self.rules[rid]
                if rule.condition is not None and not conditions[rule.condition]:
                    continue
                if rule.path is not None and not path_matches(rule.path, levels):
                    continue
                if excluded(rule.excepts, levels, vr):
                    continue
                return rule
        return None


# An element's candidates in one index, by what the index is keyed by: f(contents, tag, vr, creator).
def _by_tag(contents: dict[int, list[int]], tag: int, vr: str, creator: str | None) -> Sequence[int]:
    return contents.get(tag, ())


def _by_private_element(contents: dict[tuple[int | None, str, int], list[int]], tag: int, vr: str,
                        creator: str | None) -> Sequence[int]:
    if creator is None:
        return ()
    low = tag & 0xFF
    return sorted(contents.get((tag >> 16, creator, low), []) + contents.get((None, creator, low), []), reverse=True)


def _by_creator(contents: dict[str, list[int]], tag: int, vr: str, creator: str | None) -> Sequence[int]:
    return () if creator is None else contents.get(creator, ())


def _by_mask(contents: list[tuple[int, int, int]], tag: int, vr: str, creator: str | None) -> Sequence[int]:
    return [rid for value, care, rid in contents if (tag & care) == value]


def _by_vr(contents: dict[str, list[int]], tag: int, vr: str, creator: str | None) -> Sequence[int]:
    return contents.get(vr, ())


def _every_rule(contents: list[int], tag: int, vr: str, creator: str | None) -> Sequence[int]:
    return contents


# (the contents' shape depends on the key: `index_contents` gives Any)
_LOOKUPS: dict[Keyed, Callable[[Any, int, str, str | None], Sequence[int]]] = {
    Keyed.TAG: _by_tag, Keyed.PRIVATE_ELEMENT: _by_private_element, Keyed.CREATOR: _by_creator,
    Keyed.MASK: _by_mask, Keyed.VR: _by_vr, Keyed.NOTHING: _every_rule}


class _PathLookup:
    """The path rules whose last step can match an element, in the Plan's order: a real ruleset
    has hundreds of paths (private sequences), and each element can end few of them. Indexed by
    what the last step matches: a tag, a private (creator, element byte), or anything else
    (masks, a trailing `*`), which is always tried."""

    def __init__(self, paths: list[int], rules: list[PlanRule]):
        self.ending_in_tag: dict[int, list[int]] = {}
        self.ending_in_private: dict[tuple[str, int], list[int]] = {}
        self.ending_elsewhere: list[int] = []
        self.rank = {rid: n for n, rid in enumerate(paths)}
        for rid in paths:
            path = rules[rid].path
            assert path is not None  # the paths index holds path rules only
            element = getattr(path.steps[-1], "element", None)
            if isinstance(element, TagPattern):
                self.ending_in_tag.setdefault(element.tag, []).append(rid)
            elif isinstance(element, PrivatePattern) and element.low_byte is not None:
                self.ending_in_private.setdefault((element.creator, element.low_byte), []).append(rid)
            else:
                self.ending_elsewhere.append(rid)

    def __call__(self, tag: int, vr: str, creator: str | None) -> list[int]:
        ids = self.ending_in_tag.get(tag, []) + self.ending_elsewhere
        if creator is not None:
            ids = ids + self.ending_in_private.get((creator, tag & 0xFF), [])
        return sorted(ids, key=self.rank.__getitem__)
