"""Actions → Plan actions, checked against the parameters and the VRs they will meet.

In: an AST action, the selector it applies to, the parameters in scope. Out: a Plan action, or
diagnostics: VR-incompatible actions (a date shift on a PN), unknown parameters or keys, bad
pseudonym templates, missing lookup tables. What each action is (its classes, the VRs it fits,
its defaults) is declared in `compiler/action_specs.py`; this module holds the conversions.
"""
from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import regex

from deidc.compiler import names
from deidc.compiler.action_specs import (
    BY_PLAN,
    DEFAULT_KEY,
    DEFAULT_QUARANTINE_REASON,
    DEFAULT_UID_ROOT,
    spec_of,
)
from deidc.compiler.detectors import known_detectors
from deidc.compiler.patterns import BUILTIN_PATTERNS, compiled
from deidc.compiler.plan import (
    CleanAction,
    CopyNewValueAction,
    HashAction,
    LookupAction,
    PlanAction,
    PseudonymAction,
    QuarantineAction,
    RemapUidAction,
    ReplaceAction,
    SecretSource,
    ShiftAction,
    ShiftParam,
)
from deidc.compiler.selectors import ResolvedSelector, tag_of
from deidc.compiler.templates import validate_template
from deidc.diagnostics import Diagnostic, Span
from deidc.dicom import NUMBER_VRS
from deidc.dsl import ast


@dataclass
class Parameters:
    secrets: dict[str, SecretSource]
    shifts: dict[str, ShiftParam]
    others: dict[str, str | int]


def plan_action(action: ast.Action, file: str, params: Parameters,
                diagnostics: list[Diagnostic]) -> PlanAction | None:
    """Convert and check one action (once per rule, whatever its number of selectors)."""
    return _convert(action, file, params, diagnostics)


def check_action_vr(planned: PlanAction, action: ast.Action, selector: ResolvedSelector,
                    diagnostics: list[Diagnostic]) -> None:
    """Diagnose an action that cannot apply to the VRs `selector` can select."""
    _check_vr(planned, action, selector, diagnostics)


def _convert(action: ast.Action, file: str, params: Parameters,
             diagnostics: list[Diagnostic]) -> PlanAction | None:
    plan_class = spec_of(action).plan
    if not dataclasses.fields(plan_class):  # keep, remove, empty, dummy
        planned: PlanAction = plan_class()
        return planned
    if isinstance(action, ast.ReplaceConstant):
        return ReplaceAction(action.value)
    if isinstance(action, ast.ReplaceFrom):
        tag = tag_of(action.source, diagnostics, hint='to write a constant, quote it: replace "TEXT"')
        return None if tag is None else CopyNewValueAction(tag)
    if isinstance(action, ast.KeyedHash):
        key = _key(action.key, action.span, params, diagnostics)
        return None if key is None else HashAction(key)
    if isinstance(action, ast.Pseudonym):
        key = _key(action.key, action.span, params, diagnostics)
        problem = validate_template(action.template)
        if problem:
            diagnostics.append(Diagnostic("error", problem, action.span, code="DC020",
                                          hint="placeholders are {hmac:N} (N digits) and {hex:N}"))
            return None
        return None if key is None else PseudonymAction(key, action.template)
    if isinstance(action, ast.Lookup):
        return _lookup(action, file, params, diagnostics)
    if isinstance(action, ast.Shift):
        if action.param not in params.shifts:
            diagnostics.append(Diagnostic(
                "error", f"'{action.param}' is not a shift parameter", action.span, code="DC021",
                hint=names.did_you_mean(action.param, params.shifts)
                or f'define it, e.g. {action.param} = days(hmac(key, PatientID), -3650..-30)'))
            return None
        return ShiftAction(action.param)
    if isinstance(action, ast.RemapUid):
        key = _key(action.key, action.span, params, diagnostics)
        return None if key is None else RemapUidAction(key, action.root or DEFAULT_UID_ROOT)
    if isinstance(action, ast.Quarantine):
        return QuarantineAction(action.reason or DEFAULT_QUARANTINE_REASON)
    if isinstance(action, ast.Clean):
        return _clean(action, params, diagnostics)
    raise TypeError(action)


def _clean(action: ast.Clean, params: Parameters, diagnostics: list[Diagnostic]) -> CleanAction | None:
    fuzzy, patterns, dates, date_shift, ok = None, [], None, None, True
    detectors: list[str] = []
    for matcher in action.matchers:
        if isinstance(matcher, ast.FuzzyMatcher):
            if not 50 <= matcher.threshold <= 100:
                diagnostics.append(Diagnostic("error", f"fuzzy threshold {matcher.threshold} is outside 50..100",
                                              matcher.span, code="DC029", hint="e.g. fuzzy 88"))
                ok = False
            fuzzy = matcher.threshold
        elif isinstance(matcher, ast.RegexMatcher):
            for pattern in matcher.patterns:
                if pattern in ("date", "dates"):
                    dates = dates or "remove"
                elif pattern in BUILTIN_PATTERNS or _valid_regex(pattern, matcher, diagnostics):
                    patterns.append(pattern)
                elif not pattern.startswith("/"):
                    diagnostics.append(Diagnostic(
                        "error", f"unknown pattern '{pattern}'", matcher.span, code="DC028",
                        hint=names.did_you_mean(pattern, [*BUILTIN_PATTERNS, "date"])
                        or f"built-in patterns: {', '.join([*BUILTIN_PATTERNS, 'date'])}; or write /regex/"))
                    ok = False
                else:
                    ok = False
        elif isinstance(matcher, ast.DateMatcher):
            if matcher.shift is None:
                dates = "remove"
            elif matcher.shift not in params.shifts:
                diagnostics.append(Diagnostic(
                    "error", f"'{matcher.shift}' is not a shift parameter", matcher.span, code="DC021",
                    hint=names.did_you_mean(matcher.shift, params.shifts) or "define it with days(hmac(...), a..b)"))
                ok = False
            else:
                dates, date_shift = "shift", matcher.shift
        elif isinstance(matcher, ast.DetectMatcher):
            before = len(diagnostics)
            detectors.extend(n for n in known_detectors(matcher.detectors, matcher.span, diagnostics) if n not in detectors)
            ok = ok and len(diagnostics) == before
    return CleanAction(action.phi, fuzzy, tuple(patterns), dates, date_shift, tuple(detectors)) if ok else None


def _valid_regex(pattern: str, matcher: ast.RegexMatcher, diagnostics: list[Diagnostic]) -> bool:
    if not pattern.startswith("/"):
        return False
    body, _, flags = pattern[1:].rpartition("/")
    try:
        compiled(body, flags)  # as the runtime compiles it: the same package, the same flags
    except regex.error as err:
        diagnostics.append(Diagnostic("error", f"bad regex {pattern}: {err}", matcher.span, code="DC005"))
        return False
    return True


def _key(name: str | None, span: Span, params: Parameters, diagnostics: list[Diagnostic]) -> str | None:
    name = name or DEFAULT_KEY
    if name not in params.secrets:
        diagnostics.append(Diagnostic(
            "error", f"no secret named '{name}' for this keyed action", span, code="DC022",
            hint=f'add `{name} = secret("DEIDC_KEY")` (the key is read from that environment variable, never written in the rules)'))
        return None
    return name


def _lookup(action: ast.Lookup, file: str, params: Parameters,
            diagnostics: list[Diagnostic]) -> LookupAction | None:
    if isinstance(action.fallback, ast.Lookup):
        diagnostics.append(Diagnostic("error", "a lookup's fallback cannot be another lookup",
                                      action.fallback.span, code="DC023", hint="use e.g. `else quarantine`"))
        return None
    fallback = _convert(action.fallback, file, params, diagnostics)
    path = (Path(file).parent / action.table)
    try:
        table = read_lookup_table(path)
    except (OSError, ValueError) as err:
        diagnostics.append(Diagnostic(
            "error", f"cannot read lookup table {action.table}: {err}", action.span, code="DC024",
            hint=f"a CSV with two columns old,new; paths are relative to {Path(file).parent}"))
        return None
    return None if fallback is None else LookupAction(str(path), table, fallback)


def read_lookup_table(path: Path) -> dict[str, str]:
    """A two-column CSV (old,new); a first row `id_old,id_new` or `old,new` is a header."""
    table: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.reader(fh)):
            if not row or (n == 0 and row[0].strip().lower() in {"id_old", "old", "original"}):
                continue
            if len(row) < 2:
                raise ValueError(f"line {n + 1} has {len(row)} column(s), expected 2")
            table[row[0].strip()] = row[1].strip()
    return table


def _check_vr(planned: PlanAction, action: ast.Action, selector: ResolvedSelector,
              diagnostics: list[Diagnostic]) -> None:
    if selector.possible_vrs is None:
        return
    if isinstance(planned, ReplaceAction) and selector.possible_vrs <= NUMBER_VRS:
        try:
            float(planned.value)
        except ValueError:
            diagnostics.append(Diagnostic(
                "error", f"{selector.text} holds numbers; '{planned.value}' is not one", action.span,
                code="DC030", hint="replace it with a number, or use `empty`"))
    spec = BY_PLAN[type(planned)]
    allowed = spec.vrs
    if allowed is None:
        return
    bad = sorted(selector.possible_vrs - allowed)
    if bad:
        # All VRs wrong: an error. Some wrong (a name pattern over mixed VRs): the runtime empties
        # the elements it cannot act on, so warn.
        severity: Literal["warning", "error"] = "warning" if selector.possible_vrs & allowed else "error"
        diagnostics.append(Diagnostic(
            severity, f"{spec.misfit} cannot apply to {selector.text} ({', '.join(bad)})",
            action.span, code="DC030", hint=spec.misfit_hint))
