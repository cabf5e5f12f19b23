"""Which rule decides an element: the Plan's precedence model, memoised.

In: a Plan and, per element, its ancestry (enclosing sequences), tag, VR, private creator and the
truth values of the Plan's conditions for this dataset. Out: the deciding `PlanRule` (or None:
nothing applies and the element is kept). The first resolution of a key walks the Plan's indexes
in precedence order; every later element with the same key is one dictionary look-up, so tags
that only masks, VRs or patterns match cost nothing after their first sighting.

Whether a standard element is one pydicom's data dictionary does not know (for `unknown *`) is
asked of the dictionary, once per tag, on the tag's first sighting. The file meta elements deidc
writes itself (`FILE_META_OWNED`) are never dispatched: the walk leaves them out.
"""
from __future__ import annotations

from functools import lru_cache

from pydicom.datadict import dictionary_has_tag, mask_match

from deidc.compiler.plan import (
    AnyDepthPattern, ExceptPatterns, MaskPattern, PathPattern, Plan, PlanRule, PrivatePattern,
    TagPattern,
)

# One level of an element's path: (tag, private creator or None, item index or None).
Level = tuple[int, "str | None", "int | None"]


def element_matches(pattern, tag: int, creator: str | None) -> bool:
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
        self._memo: dict[tuple, PlanRule | None] = {}
        uses_paths = bool(plan.paths) or any(r.excepts and r.excepts.paths for r in plan.rules)
        self._ancestry_mode = 2 if plan.indexed_paths else (1 if uses_paths else 0)
        self._paths_by_tag, self._paths_by_private, self._paths_other = _index_paths(plan)
        self._path_rank = {rid: n for n, rid in enumerate(plan.paths)}

    def context_of(self, ancestry: tuple[Level, ...]) -> tuple:
        """The part of an element's ancestry the Plan's rules can tell apart (memo key part):
        nothing, the enclosing sequences, or those with their item indexes."""
        mode = self._ancestry_mode
        if mode == 0:
            return ()
        if mode == 1:
            return tuple((t, c) for t, c, _ in ancestry)
        return ancestry

    def rule_for(self, ancestry: tuple[Level, ...], tag: int, vr: str, creator: str | None,
                 conditions: tuple[bool, ...], context: tuple | None = None) -> PlanRule | None:
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

    def _candidates(self, tag: int, vr: str, creator: str | None):
        """Rule-id lists in precedence order (each list already best-first)."""
        p = self.plan
        yield self._path_candidates(tag, creator)
        yield p.by_tag.get(tag, ())
        if creator is not None:
            low = tag & 0xFF
            yield sorted(p.by_private.get((tag >> 16, creator, low), []) + p.by_private.get((None, creator, low), []),
                         reverse=True)
            yield p.by_creator.get(creator, ())
        yield [rid for value, care, rid in p.masks if (tag & care) == value]
        if not (tag >> 16) & 1:
            if p.unknown_defaults and unknown_standard(tag):  # before VR rules: a flipped bit keeps its VR
                yield p.unknown_defaults
            yield sorted(p.by_vr.get(vr, []) + p.by_name.get(tag, []), reverse=True)  # standard attributes only
        if (tag >> 16) & 1:  # `private *` first; `default` when none applies (e.g. under `when`)
            yield p.private_defaults
        yield p.defaults

    def _path_candidates(self, tag: int, creator: str | None) -> list[int]:
        """The path rules whose last step can match this element, in the Plan's order: a real
        ruleset has hundreds of paths (private sequences), and each element can end few of them."""
        ids = self._paths_by_tag.get(tag, []) + self._paths_other
        if creator is not None:
            ids = ids + self._paths_by_private.get((creator, tag & 0xFF), [])
        return sorted(ids, key=self._path_rank.__getitem__)

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


def _index_paths(plan: Plan) -> tuple[dict[int, list[int]], dict[tuple[str, int], list[int]], list[int]]:
    """Path rules by what their last step matches: a tag, a private (creator, element byte), or
    anything else (masks, a trailing `*`), which is always tried."""
    by_tag: dict[int, list[int]] = {}
    by_private: dict[tuple[str, int], list[int]] = {}
    other: list[int] = []
    for rid in plan.paths:
        last = plan.rules[rid].path.steps[-1]
        element = getattr(last, "element", None)
        if isinstance(element, TagPattern):
            by_tag.setdefault(element.tag, []).append(rid)
        elif isinstance(element, PrivatePattern) and element.low_byte is not None:
            by_private.setdefault((element.creator, element.low_byte), []).append(rid)
        else:
            other.append(rid)
    return by_tag, by_private, other
