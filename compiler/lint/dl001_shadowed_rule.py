"""A rule that can never decide an element, because another rule always wins wherever it applies.

What: every element the selector could choose is already taken by a rule without `when` or
`except` that wins by the precedence model: a later rule of the same specificity and the same
selection (the same keyword written twice, two `default`s, two `vr DA` rules), or a more specific
rule (a keyword rule over a name pattern that names only that attribute). A rule that loses
only to rules of a selected `option` block is not reported: overriding is what options are for.

Why: the earlier rule is dead text; whoever reads the file believes it does something. Usually
one of the two is a mistake (a copy-paste, a forgotten override).

Bad:

    PatientID -> hash
    PatientID -> remove      # PatientID -> hash never applies

Good:

    PatientID -> hash
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.compiler.plan import INDEXES, Keyed, Plan, PlanRule, RuleIndex, index_contents
from deidc.diagnostics import Diagnostic

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


def _always(rule: PlanRule) -> bool:
    return rule.condition is None and rule.excepts is None


def _competing(plan: Plan, index: RuleIndex) -> list[tuple[object, list[int]]]:
    """(key, rule ids best-first) per key of one index: the rules that select the same elements
    (the same tag, creator, VR, mask or path; a catch-all's rules all together)."""
    contents = index_contents(plan, index)
    if index.keyed is Keyed.NOTHING:
        return [(index.field, contents)]
    if isinstance(contents, dict):
        return list(contents.items())
    groups = defaultdict(list)
    for entry in contents:
        if index.keyed is Keyed.MASK:
            value, care, rid = entry
            groups[(value, care)].append(rid)
        else:
            groups[plan.rules[entry].path].append(entry)
    return [(key, sorted(ids, reverse=True)) for key, ids in groups.items()]


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    plan = ctx.plan
    rules = plan.rules
    keys: defaultdict[int, int] = defaultdict(int)  # rule id -> number of keys it is indexed under
    lost: defaultdict[int, list[PlanRule]] = defaultdict(list)  # rule id -> winners, one per key where it loses
    # per kind of key: key -> the rule that always wins there
    taken: defaultdict[Keyed, dict[object, PlanRule]] = defaultdict(dict)

    def walk(ids: Iterable[int]) -> PlanRule | None:
        winner: PlanRule | None = None
        for rid in ids:  # best-first
            keys[rid] += 1
            if winner is not None:
                lost[rid].append(winner)
            elif _always(rules[rid]):
                winner = rules[rid]
        return winner

    for index in INDEXES:  # best first
        for key, ids in _competing(plan, index):
            above = taken[index.keyed].get(key)
            if above is not None:  # a more specific index takes the key (a tag rule, a name pattern's tag)
                for rid in ids:
                    keys[rid] += 1
                    lost[rid].append(above)
                continue
            winner = walk(ids)
            if winner is not None:
                taken[index.keyed][key] = winner

    for rid, count in keys.items():
        rule = rules[rid]
        if len(lost[rid]) != count or not ctx.in_file(rule.origin):
            continue
        winner = lost[rid][0]
        if all(ctx.in_option(w.origin) for w in lost[rid]) and not ctx.in_option(rule.origin):
            continue  # a selected option overriding the base rules is what options are for
        where = f"{winner.origin.file}:{winner.origin.line}" if not ctx.in_file(winner.origin) \
            else f"line {winner.origin.line}"
        yield Diagnostic(
            "warning", f"'{rule.origin.selector}' never decides an element: "
                       f"'{winner.origin.selector}' at {where} always wins",
            ctx.span(rule.origin), hint="delete one of the two rules, or put the one meant to win last")
