"""Evaluate the Plan's conditions on a dataset's top level.

In: Plan conditions and a pydicom Dataset. Out: one bool per condition, in Plan order. Values
compare case-insensitively after stripping DICOM padding; for a multi-valued attribute any value
counts.
"""
from __future__ import annotations

import functools

import regex
from pydicom.dataset import Dataset

from deidc.compiler.plan import AllTrue, AnyTrue, Not, PlanCondition, Present, ValueIn, ValueMatches


def _values(ds: Dataset, tag: int) -> list[str]:
    elem = ds.get(tag)
    if elem is None or elem.value is None:
        return []
    value = elem.value
    items = value if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
    return [str(v).strip(" \x00") for v in items]


@functools.lru_cache(maxsize=128)
def _compiled(pattern: str, flags: str):
    return regex.compile(pattern, regex.IGNORECASE if "i" in flags else 0)


def evaluate(cond: PlanCondition, ds: Dataset) -> bool:
    if isinstance(cond, ValueIn):
        return any(v.upper() in cond.values for v in _values(ds, cond.tag))
    if isinstance(cond, ValueMatches):
        compiled = _compiled(cond.pattern, cond.flags)
        return any(compiled.search(v) for v in _values(ds, cond.tag))
    if isinstance(cond, Present):
        return cond.tag in ds
    if isinstance(cond, AllTrue):
        return all(evaluate(c, ds) for c in cond.items)
    if isinstance(cond, AnyTrue):
        return any(evaluate(c, ds) for c in cond.items)
    if isinstance(cond, Not):
        return not evaluate(cond.item, ds)
    raise TypeError(cond)


def evaluate_all(conditions: list[PlanCondition], ds: Dataset) -> tuple[bool, ...]:
    return tuple(evaluate(c, ds) for c in conditions)
