"""Cross-check: `deidc explain` tells what the walk does, element by element.

Guards `tools/explain.py` (which mirrors the walk) against `runtime/interpret/walk.py` (which does it).
For a dataset and a Plan, the real walk (`DatasetDeidentifier`, deferred work included) runs on a
copy and `explain_dataset` on the original; then, for every element the walk decided — the file
meta's and the dataset's, in every sequence the walk entered:

- changed elements: explain names the rule (origin) of each `Change` the walk recorded there,
  with the same action; a `clean` that an enclosing sequence's `clean` rule made is credited to
  that sequence (its own row names the rule);
- kept elements: explain names the rule `Dispatcher.rule_for` gives (or none), with its action;
- explain lists nothing as "added by deidc" that was in the input, and no element the walk never
  reached; both agree on the quarantine.

Inputs, fast: a small file with a RequestAttributesSequence under ps3.15-basic + clean-descriptors,
and a real file holding a sequence stored as UN. Slow (~30 s of CPU): the conformance corpus (files
deidc refuses read by pydicom: their elements still count) × the conformance rulesets and
ps3.15-basic with clean-descriptors alone. Pixel rules are left out of the Plans: OCR decides no
element, and would be slow.
"""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import conformance_files as helpers  # noqa: E402 — tests/conftest.py puts tests/ on the path
import pydicom
import pytest
import sibling_tests
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidc.compiler import compile_or_raise
from deidc.compiler.dispatch import Dispatcher
from deidc.compiler.file_meta import FILE_META_OWNED
from deidc.compiler.plan import CleanAction, KeepAction, Plan
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.codec.files import read_dataset
from deidc.runtime.interpret.actions import ACTION_NAMES
from deidc.runtime.interpret.conditions import evaluate_all
from deidc.runtime.interpret.visit import vr_of
from deidc.runtime.interpret.walk import DatasetDeidentifier, format_path
from deidc.tools.explain import ADDED_STEP, explain_dataset
from deidc.tools.show import format_action

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # odd inputs make pydicom warn

PIXEL_CHANGES = frozenset({"redact-pixels", "reencode-lossy"})  # pixel rules, not element rules


CONFORMANCE = sibling_tests.load("runtime/test_conformance.py", "crosscheck_conformance")
RULESETS = {**CONFORMANCE.RULESETS, "ps3.15-basic+clean-descriptors": ("ps3.15-basic.deid", ("clean-descriptors",))}
FILE_IDS = [*CONFORMANCE.CORPUS, *helpers.GENERATED_NAMES]


def disagreements(plan: Plan, keys: dict[str, bytes], ds: Dataset) -> list[str]:
    """Every way explain's account of `ds` differs from the walk's (one line each)."""
    pristine = copy.deepcopy(ds)  # reading a value converts a raw element: its VR may change
    outcome = DatasetDeidentifier(plan, keys).deidentify(copy.deepcopy(ds))
    explanation = explain_dataset(plan, keys, ds)
    if outcome.quarantine or explanation.quarantine:
        return [] if outcome.quarantine == explanation.quarantine else \
            [f"quarantine: walk {outcome.quarantine!r}, explain {explanation.quarantine!r}"]
    rows: dict[str, list] = {}
    for row in explanation.elements:
        rows.setdefault(row.path, []).append(row)
    changes: dict[str, list] = {}
    for change in outcome.changes:
        if change.action not in PIXEL_CHANGES:
            changes.setdefault(change.path, []).append(change)
    pairs: dict[str | None, set] = {None: {("Keep", None)}}  # origin -> {(explain action, walk action)}
    for rule in plan.rules:
        pairs.setdefault(str(rule.origin), set()).add((format_action(rule.action), ACTION_NAMES[type(rule.action)]))
    dispatcher, conditions = Dispatcher(plan), evaluate_all(plan.conditions, pristine)
    problems: list[str] = []
    input_paths = every_path(copy.deepcopy(ds))
    reached: set[str] = set()  # every element of every dataset the walk went through
    decided: set[str] = set()  # ... that a rule decides

    def visit(items: Dataset, ancestry: tuple, enclosing_cleans: frozenset, meta: bool = False) -> None:
        for tag in list(items._dict):
            path = format_path(ancestry, tag)
            reached.add(path)
            group, element = tag >> 16, tag & 0xFFFF
            if element == 0 or (meta and tag in FILE_META_OWNED) or (group & 1 and 0x10 <= element <= 0xFF):
                continue  # group lengths, file meta deidc writes, private creators: no rule decides them
            private = group & 1 and element >= 0x1000
            creator = DatasetDeidentifier._creator(items, group, element >> 8) if private else None
            vr = vr_of(items, tag)
            rule = dispatcher.rule_for(ancestry, tag, vr, creator, conditions)
            own = None if rule is None else str(rule.origin)
            decided.add(path)
            if len(rows.get(path, [])) != 1:
                problems.append(f"{path}: explain has {len(rows.get(path, []))} rows for an element the walk decided")
                continue
            row = rows[path][0]
            mine = [c for c in changes.get(path, [])  # not the `clean` of an enclosing sequence (checked there)
                    if not (c.action == "clean" and c.rule in enclosing_cleans and c.rule != own)]
            for change in mine:
                if change.rule != row.rule or (row.action, change.action) not in pairs.get(row.rule, ()):
                    problems.append(f"{path}: walk {change.action} by {change.rule}; "
                                    f"explain {row.action} by {row.rule}")
            expected = (own, format_action(KeepAction()) if rule is None else format_action(rule.action))
            if not mine and (row.rule, row.action) != expected:
                problems.append(f"{path}: walk left it unchanged (rule {own}); explain {row.action} by {row.rule}")
            value = items[tag].value if vr == "SQ" and not mine else None
            if isinstance(value, Sequence):  # a sequence left in place: the walk entered it
                cleans = enclosing_cleans | {own} if rule is not None and isinstance(rule.action, CleanAction) \
                    else enclosing_cleans
                for index, item in enumerate(value):
                    visit(item, ancestry + ((tag, creator, index),), cleans)

    if getattr(pristine, "file_meta", None) is not None:
        visit(pristine.file_meta, (), frozenset(), meta=True)
    visit(pristine, (), frozenset())
    problems += [f"{path}: the walk changed an element it never reached" for path in changes if path not in decided]
    for row in explanation.elements:
        if row.step == ADDED_STEP and row.path in input_paths:
            problems.append(f"{row.path}: in the input, but explain lists it as added by deidc")
        elif row.step != ADDED_STEP and row.path not in reached:
            problems.append(f"{row.path}: explain lists an element the walk never reached")
    return problems


def every_path(ds: Dataset, ancestry: tuple = ()) -> set[str]:
    """The paths of every element of `ds` (and its file meta) as pydicom reads them: values are
    converted, so a sequence stored as UN shows its items."""
    meta = getattr(ds, "file_meta", None) if not ancestry else None
    paths = {format_path((), tag) for tag in meta._dict} if meta is not None else set()
    for tag in list(ds._dict):
        paths.add(format_path(ancestry, tag))
        if isinstance(ds[tag].value, Sequence):
            for index, item in enumerate(ds[tag].value):
                paths |= every_path(item, ancestry + ((tag, None, index),))
    return paths


def compiled(rules: Path, options: tuple[str, ...] = ()) -> tuple[Plan, dict[str, bytes]]:
    plan = dataclasses.replace(compile_or_raise(rules, options).plan, pixels=[])
    return plan, resolve_keys(plan, insecure_demo_key=True)


def test_explain_enters_a_sequence_the_rules_clean():
    """ps3.15-basic + clean-descriptors: RequestAttributesSequence -> clean phi. The walk enters
    its items (each element by its own rule, then the free text cleaned); explain must too."""
    ds = pydicom.dcmread(helpers.TEST_FILES / "CT_small.dcm")
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "P1", "99X", f"{ds.PatientName} protocol"
    request = Dataset()
    request.RequestedProcedureID = "RP77"
    request.ScheduledProtocolCodeSequence = Sequence([code])
    ds.RequestAttributesSequence = Sequence([request])
    plan, keys = compiled(helpers.RULESETS / "ps3.15-basic.deid", ("clean-descriptors",))
    problems = disagreements(plan, keys, ds)
    assert not problems, "explain disagrees with the walk:\n" + "\n".join(problems)


def test_explain_adds_nothing_inside_a_sequence_stored_as_un():
    """rtdose_rle_1frame.dcm stores ReferencedRTPlanSequence as UN: the walk does not enter it
    (VR UN) and copies it whole; explain must not list its items' elements as added by deidc."""
    ds = read_dataset(helpers.TEST_FILES / "rtdose_rle_1frame.dcm")
    plan, keys = compiled(helpers.RULESETS / "ps3.15-basic.deid")
    problems = disagreements(plan, keys, ds)
    assert not problems, "explain disagrees with the walk:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, tuple[Plan, dict[str, bytes]]]:
    stress = tmp_path_factory.mktemp("rules") / "stress.deid"
    stress.write_text(CONFORMANCE.STRESS_RULES, encoding="utf-8")
    return {name: compiled(helpers.RULESETS / file if file else stress, options)
            for name, (file, options) in RULESETS.items()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    return helpers.write_generated(tmp_path_factory.mktemp("generated"))


@pytest.mark.slow
@pytest.mark.parametrize("ruleset", list(RULESETS))
@pytest.mark.parametrize("file_id", FILE_IDS)
def test_explain_matches_walk_on_conformance_files(file_id, ruleset, plans, generated):
    path = CONFORMANCE.CORPUS.get(file_id) or generated[file_id]
    try:
        ds = read_dataset(path)
    except Exception:  # noqa: BLE001 — refused by deidc (no pixel data, cut short): its elements still count
        try:
            ds = pydicom.dcmread(path)
        except Exception as err:  # noqa: BLE001
            pytest.skip(f"not readable: {err}")
    plan, keys = plans[ruleset]
    try:
        DatasetDeidentifier(plan, keys).deidentify(copy.deepcopy(ds))
    except Exception as err:  # noqa: BLE001 — explain runs the walk: it must fail the same way
        with pytest.raises(type(err)):
            explain_dataset(plan, keys, ds)
        return
    problems = disagreements(plan, keys, ds)
    assert not problems, "explain disagrees with the walk:\n" + "\n".join(problems)
