"""A name or free-text attribute of Table E.1-1 kept as it is.

What: an explicit `keep` rule decides an attribute that Table E.1-1 lists and whose VR is PN or
free text (LO, SH, ST, LT, UT, UC).

Why: person names and free text are where PHI hides (a technologist's note, a referring
physician, a patient name typed into a description). Keeping them whole is rarely what a
release needs; `clean` keeps the text and removes the PHI in it.

Bad:

    StudyDescription -> keep

Good:

    collect PatientName, PatientID as phi
    StudyDescription -> clean phi
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.compiler.plan import KeepAction, Specificity
from deidc.diagnostics import Diagnostic
from deidc.dicom import dictionary_vrs

from . import table_e1_1

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


PHI_VRS = frozenset({"PN", "LO", "SH", "ST", "LT", "UT", "UC"})
SHOWN = 5


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    hits = defaultdict(list)
    for row in table_e1_1():
        if row.basic == "K" or not dictionary_vrs(row.tag) & PHI_VRS:
            continue
        rule = ctx.decide(row.tag)
        if (rule is not None and rule.specificity != Specificity.DEFAULT
                and isinstance(rule.action, KeepAction) and ctx.in_file(rule.origin)):
            hits[rule.id].append(row)
    for rid, rows in hits.items():
        rule = ctx.plan.rules[rid]
        names = ", ".join(r.name for r in rows[:SHOWN])
        more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
        yield Diagnostic(
            "warning", f"'{rule.origin.selector} -> keep' keeps names or free text unchanged: {names}{more}",
            ctx.span(rule.origin), hint="use `clean PHI` (after `collect ... as PHI`) to keep the text without the PHI")
