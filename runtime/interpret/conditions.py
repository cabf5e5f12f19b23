"""Evaluate the Plan's conditions on a dataset's top level.

In: Plan conditions and a pydicom Dataset. Out: one bool per condition, in Plan order. Values
compare case-insensitively after stripping DICOM padding; for a multi-valued attribute any value
counts. A `~` pattern matches as its flags say (/re/imsx), and each search of one value stops
after `limits.regex_seconds`: `RegexTooSlow` (the file is quarantined) names the condition and its
rule, never the value.
"""
from __future__ import annotations

from pydicom.dataset import Dataset

from deidc.compiler.patterns import compiled
from deidc.compiler.plan import AllTrue, AnyTrue, Not, PlanCondition, Present, ValueIn, ValueMatches
from deidc.runtime.text.user_regex import RegexTooSlow, search_seconds


def _values(ds: Dataset, tag: int) -> list[str]:
    elem = ds.get(tag)
    if elem is None or elem.value is None:
        return []
    value = elem.value
    items = value if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
    return [str(v).strip(" \x00") for v in items]


def evaluate(cond: PlanCondition, ds: Dataset) -> bool:
    if isinstance(cond, ValueIn):
        return any(v.upper() in cond.values for v in _values(ds, cond.tag))
    if isinstance(cond, ValueMatches):
        return _matches(cond, ds)
    if isinstance(cond, Present):
        return cond.tag in ds
    if isinstance(cond, AllTrue):
        return all(evaluate(c, ds) for c in cond.items)
    if isinstance(cond, AnyTrue):
        return any(evaluate(c, ds) for c in cond.items)
    if isinstance(cond, Not):
        return not evaluate(cond.item, ds)
    raise TypeError(cond)


def _matches(cond: ValueMatches, ds: Dataset) -> bool:
    pattern, seconds = compiled(cond.pattern, cond.flags), search_seconds()
    for value in _values(ds, cond.tag):
        try:
            if pattern.search(value, timeout=seconds):
                return True
        except TimeoutError:
            origin = cond.origin  # None: a Plan built by hand
            what = (f"the condition {origin.selector} (rule {origin})" if origin else
                    f"the condition ~ /{cond.pattern}/{cond.flags}")
            raise RegexTooSlow(what, len(value), seconds) from None
    return False


def evaluate_all(conditions: list[PlanCondition], ds: Dataset) -> tuple[bool, ...]:
    return tuple(evaluate(c, ds) for c in conditions)
