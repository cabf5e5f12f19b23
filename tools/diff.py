"""Two Plans → the attributes whose effective action differs (for `deidc diff`).

In: two compiled Plans. Out: a list of `Difference`s, plain data: the group, a printable key and,
per side, the deciding rule's action (as `format_action` prints it) and origin (`file:line`).

"Effective" means what the precedence model decides, not what the text says: every key of a
universe built from both Plans is resolved with `Dispatcher.rule_for` (no enclosing sequences,
every condition false), so reordering rules of different specificity changes nothing, and a
change hidden behind a more specific rule in both files shows nowhere, while a new rule that
takes an attribute from a less specific one shows on that attribute only. The universe:

    tags              every dictionary keyword's tag (with its dictionary VR, the first of
                      "US or SS"; file meta elements included, except those deidc writes
                      itself, which no rule decides) and every tag either Plan names
    private elements  every (group, creator, low byte) either Plan names (any group: 0009)
    private blocks    every creator either Plan names, at a low byte no element rule names
    masks             every mask either Plan has, at the mask value itself
    paths             every path either Plan has, resolved at the path itself when it has no
                      `*` step; otherwise the latest rule written with that same path
    VR defaults       the winning `vr XX` rule per VR
    defaults          the catch-alls: `default`, `private *` and `unknown *`
    conditional rules rules under `when`, per selector and condition (latest wins), compared
                      on their own: they decide only for datasets that meet the condition

The keys come from the Plan's indexes as `plan.INDEXES` declares them: each group takes the keys
of every index keyed by what the group is about (tags, private elements, creators, masks, paths,
VRs; the catch-alls by their selector).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydicom.datadict import keyword_for_tag

from deidc.compiler.dispatch import Dispatcher, Level
from deidc.compiler.file_meta import FILE_META_OWNED
from deidc.compiler.plan import (
    INDEXES,
    AnyDepthPattern,
    Keyed,
    LookupAction,
    MaskPattern,
    PathPattern,
    Plan,
    PlanRule,
    PrivatePattern,
    ShiftAction,
    StepPattern,
    TagPattern,
    index_contents,
)
from deidc.dicom import dictionary_vr, format_tag, keyword_tags
from deidc.tools.show import format_action, format_condition

NO_RULE = "no rule: kept"
ANY_PRIVATE_GROUP = 0x0009  # the representative odd group for `(gggg,"CREATOR",xx)`


@dataclass(frozen=True)
class Side:
    """What one Plan decides for a key: the action text and the deciding rule's `file:line`
    (None when no rule applies and the element is kept)."""

    action: str
    origin: str | None

    def __str__(self) -> str:
        return f"{self.action} ({self.origin})" if self.origin else self.action


@dataclass(frozen=True)
class Difference:
    group: str  # one of GROUPS
    key: str
    a: Side
    b: Side


def _vr_of(tag: int) -> str:
    return dictionary_vr(tag) or "UN"


def _private_tag(group: int | None, low: int) -> int:
    return ((ANY_PRIVATE_GROUP if group is None else group) << 16) | 0x1000 | low


def _mask_text(value: int, care: int) -> str:
    digits = "".join("x" if (care >> shift) & 0xF == 0 else f"{(value >> shift) & 0xF:X}"
                     for shift in range(28, -4, -4))
    return f"({digits[:4]},{digits[4:]})"


def _private_text(group: int | None, creator: str, low: int | None) -> str:
    g = "gggg" if group is None else f"{group:04X}"
    return f'({g},"{creator}",{low:02X})' if low is not None else f'"{creator}"'


def _min_depth(path: PathPattern) -> int:
    """How many levels an element needs for the path to match it (`*` steps may match none)."""
    return sum(1 for step in path.steps if not isinstance(step, AnyDepthPattern)) or 1


class _Side:
    """One Plan with its Dispatchers: resolves keys to comparable (text, identity, origin)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.no_conditions = tuple(False for _ in plan.conditions)
        self._dispatchers: dict[int, Dispatcher] = {}

    def _dispatcher(self, depth: int) -> Dispatcher:
        """A Dispatcher for elements `depth` levels deep. Path rules that need more levels can
        never match such an element, so they are left out of its view of the Plan: the same
        decisions, without trying hundreds of nested paths on every dictionary tag."""
        if depth not in self._dispatchers:
            # Plan fields, named by the indexes (index_contents gives Any): `replace` takes them
            shallow: dict[str, Any] = {index.field: [rid for rid in index_contents(self.plan, index)
                                                     if _min_depth(self.plan.rules[rid].path) <= depth]
                                       for index in INDEXES if index.keyed is Keyed.PATH}
            self._dispatchers[depth] = Dispatcher(replace(self.plan, **shallow))
        return self._dispatchers[depth]

    def resolve(self, tag: int, vr: str, creator: str | None = None,
                ancestry: tuple[Level, ...] = ()) -> PlanRule | None:
        return self._dispatcher(len(ancestry) + 1).rule_for(ancestry, tag, vr, creator,
                                                             self.no_conditions)

    def first_unconditional(self, ids) -> PlanRule | None:
        for rid in ids:  # every index is best-first
            rule = self.plan.rules[rid]
            if rule.condition is None:
                return rule
        return None

    def describe(self, rule: PlanRule | None) -> tuple[Side, tuple]:
        """The printable side and what must be equal for two sides to be the same decision
        (the action text plus what it does not show: table rows, shift parameters)."""
        if rule is None:
            return Side(NO_RULE, None), (NO_RULE,)
        action = rule.action
        text = format_action(action)
        identity: tuple = (text,)
        if isinstance(action, ShiftAction) and action.shift in self.plan.shifts:
            s = self.plan.shifts[action.shift]
            text += f" [{s.unit} {s.low}..{s.high} keyed by {s.key} on {format_tag(s.source_tag)}]"
            identity = (text,)
        while isinstance(action, LookupAction):
            identity += (tuple(sorted(action.table.items())),)
            action = action.fallback
        return Side(text, str(rule.origin)), identity


def _levels(path: PathPattern) -> tuple[Level, ...] | None:
    """A concrete element for a path without `*` steps: (tag, creator, item) per level."""
    levels: list[Level] = []
    for step in path.steps:
        if isinstance(step, AnyDepthPattern) or not isinstance(step, StepPattern):
            return None
        element = step.element
        if isinstance(element, TagPattern):
            levels.append((element.tag, None, step.item or 0))
        elif isinstance(element, MaskPattern):
            levels.append((element.value, None, step.item or 0))
        elif isinstance(element, PrivatePattern):
            levels.append((_private_tag(element.group, element.low_byte or 0), element.creator,
                           step.item or 0))
        else:
            return None
    return tuple(levels) if levels else None


def _keys(a: _Side, b: _Side, keyed: Keyed) -> set:
    """Every key either Plan files rules under in its indexes keyed so (masks: value and care)."""
    keys = set()
    for plan in (a.plan, b.plan):
        for index in INDEXES:
            if index.keyed is keyed:
                contents = index_contents(plan, index)
                keys |= {(value, care) for value, care, _ in contents} if keyed is Keyed.MASK else set(contents)
    return keys


def _filed(plan: Plan, keyed: Keyed, key=None) -> list[int]:
    """The rule ids the Plan files under `key` in its indexes keyed so (all of them for paths and
    catch-alls), best first."""
    ids = []
    for index in INDEXES:
        if index.keyed is keyed:
            contents = index_contents(plan, index)
            ids += contents.get(key, []) if isinstance(contents, dict) else contents
    return sorted(ids, reverse=True)


def _tags(a: _Side, b: _Side):
    tags = (set(keyword_tags().values()) | _keys(a, b, Keyed.TAG)) - set(FILE_META_OWNED)
    for tag in sorted(tags):
        vr = _vr_of(tag)
        keyword = keyword_for_tag(tag)
        key = f"{keyword} {format_tag(tag)}" if keyword else format_tag(tag)
        yield key, a.resolve(tag, vr), b.resolve(tag, vr)


def _private_elements(a: _Side, b: _Side):
    for group, creator, low in sorted(_keys(a, b, Keyed.PRIVATE_ELEMENT), key=lambda k: (k[0] or -1, k[1], k[2])):
        tag = _private_tag(group, low)
        yield _private_text(group, creator, low), a.resolve(tag, "UN", creator), b.resolve(tag, "UN", creator)


def _private_blocks(a: _Side, b: _Side):
    """Each creator at a low byte that no element rule of either Plan names."""
    private_keys, tags_named = _keys(a, b, Keyed.PRIVATE_ELEMENT), _keys(a, b, Keyed.TAG)
    for creator in sorted(_keys(a, b, Keyed.CREATOR)):
        named = {low for g, c, low in private_keys if c == creator and g in (None, ANY_PRIVATE_GROUP)}
        free = [low for low in range(256)
                if low not in named and _private_tag(None, low) not in tags_named]
        if free:
            tag = _private_tag(None, free[0])
            yield _private_text(None, creator, None), a.resolve(tag, "UN", creator), b.resolve(tag, "UN", creator)


def _masks(a: _Side, b: _Side):
    """Each mask at the mask value itself."""
    for value, care in sorted(_keys(a, b, Keyed.MASK)):
        vr = _vr_of(value)
        yield _mask_text(value, care), a.resolve(value, vr), b.resolve(value, vr)


def _paths(a: _Side, b: _Side):
    paths: dict[PathPattern, str] = {}
    for plan in (a.plan, b.plan):
        for rid in sorted(_filed(plan, Keyed.PATH)):
            rule = plan.rules[rid]
            assert rule.path is not None  # the paths index holds path rules only
            paths.setdefault(rule.path, rule.origin.selector)
    for path, text in sorted(paths.items(), key=lambda kv: kv[1]):
        levels = _levels(path)
        if levels is not None:
            (tag, creator, _), ancestry = levels[-1], levels[:-1]
            vr = "UN" if creator is not None else _vr_of(tag)
            yield text, a.resolve(tag, vr, creator, ancestry), b.resolve(tag, vr, creator, ancestry)
        else:
            yield text, *(side.first_unconditional(r for r in _filed(side.plan, Keyed.PATH)
                                                    if side.plan.rules[r].path == path) for side in (a, b))


def _vr_defaults(a: _Side, b: _Side):
    for vr in sorted(_keys(a, b, Keyed.VR)):
        yield f"vr {vr}", *(side.first_unconditional(_filed(side.plan, Keyed.VR, vr)) for side in (a, b))


def _defaults(a: _Side, b: _Side):
    """The catch-alls, by selector (`default`, `private *`, `unknown *`)."""
    for index in sorted((i for i in INDEXES if i.keyed is Keyed.NOTHING), key=lambda i: i.selector or ""):  # (each has one)
        yield index.selector, *(side.first_unconditional(index_contents(side.plan, index)) for side in (a, b))


def _conditional_rules(a: _Side, b: _Side):
    """Per (selector, condition): the latest written wins."""
    def conditional(plan: Plan) -> dict[str, PlanRule]:
        found: dict[str, PlanRule] = {}
        for rule in plan.rules:  # in id order: a later rule replaces an earlier one
            if rule.condition is not None:
                key = f"{rule.origin.selector} when {format_condition(plan.conditions[rule.condition])}"
                found[key] = rule
        return found

    cond_a, cond_b = conditional(a.plan), conditional(b.plan)
    for key in sorted(set(cond_a) | set(cond_b)):
        yield key, cond_a.get(key), cond_b.get(key)


# The groups of differences, in the order they are reported: each yields (key, rule a, rule b).
_GROUPS = (("tags", _tags), ("private elements", _private_elements), ("private blocks", _private_blocks),
           ("masks", _masks), ("paths", _paths), ("VR defaults", _vr_defaults), ("defaults", _defaults),
           ("conditional rules", _conditional_rules))
GROUPS = tuple(group for group, _ in _GROUPS)


def diff_plans(plan_a: Plan, plan_b: Plan) -> list[Difference]:
    """Every key of the universe (module docstring) whose effective decision differs."""
    a, b = _Side(plan_a), _Side(plan_b)
    out: list[Difference] = []
    for group, keys in _GROUPS:
        for key, rule_a, rule_b in keys(a, b):
            side_a, id_a = a.describe(rule_a)
            side_b, id_b = b.describe(rule_b)
            if id_a != id_b:
                out.append(Difference(group, key, side_a, side_b))
    return out


def count_by_group(differences: list[Difference]) -> dict[str, int]:
    counts = dict.fromkeys(GROUPS, 0)
    for d in differences:
        counts[d.group] += 1
    return counts
