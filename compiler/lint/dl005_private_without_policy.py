"""No rule says what happens to private elements.

What: the rules have no `private *` rule and no unconditional `default` that does something
other than keep, so private elements nobody named are kept as they are.

Why: vendors put names, IDs and dates in private tags. PS3.15 removes private attributes unless
the Retain Safe Private option says which are safe.

Bad:

    version 1
    use "ps3.15-basic"
    default -> keep

Good:

    version 1
    use "ps3.15-basic"
    private "SIEMENS CSA HEADER" { 10 -> keep }
    private * -> remove
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.compiler.plan import INDEXES, ODD_GROUP, ElementKind, KeepAction, Keyed, index_contents
from deidc.diagnostics import Diagnostic

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


# The catch-alls that decide private elements nobody named: `private *` and `default`.
PRIVATE_CATCH_ALLS = tuple(index for index in INDEXES
                           if index.keyed is Keyed.NOTHING and ElementKind.PRIVATE in index.applies_to)


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    plan = ctx.plan
    rules = []
    for index in PRIVATE_CATCH_ALLS:
        ids = index_contents(plan, index)
        if ids and index.applies_to == ODD_GROUP:
            return  # a rule for private elements only (`private *`), whatever it does, is a policy
        rules += [plan.rules[i] for i in ids]
    if any(rule.condition is None and not isinstance(rule.action, KeepAction) for rule in rules):
        return
    keep_default = next((rule for rule in rules if ctx.in_file(rule.origin)), None)
    yield Diagnostic(
        "warning", "private elements that no rule names are kept: there is no `private *` rule and no "
                   "`default` that removes",
        ctx.span(keep_default.origin) if keep_default else ctx.file_span(),
        hint="add `private * -> remove` (after rules for the private blocks known to be safe)")
