"""The shipped profiles keep what they de-identify a valid object (issue 15: dciodvfy finds no
error the de-identification introduced): removals that would leave a required attribute missing
are empties or dummies, a D sequence keeps its items, overlays go or stay as a whole module."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from deidc.compiler import compile_or_raise
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.interpret.walk import DatasetDeidentifier

RULESETS = Path(__file__).resolve().parents[2] / "rulesets"


@pytest.fixture(scope="module")
def profiles() -> dict[str, DatasetDeidentifier]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEIDC_KEY", "runtime-tests-secret-key-0123456789")
        out = {}
        for name in ("ps3.15-basic", "tcia"):
            plan = compile_or_raise(RULESETS / f"{name}.deid", ()).plan
            out[name] = DatasetDeidentifier(plan, resolve_keys(plan))
        return out


def _all(ds: Dataset, keyword: str):
    """Every element `keyword` names, at any depth."""
    for elem in ds:
        if elem.keyword == keyword:
            yield elem
        if elem.VR == "SQ":
            for item in elem.value:
                yield from _all(item, keyword)


def _overlay_tags(ds: Dataset) -> list[int]:
    return [tag for tag in ds.keys() if 0x6000 <= tag >> 16 <= 0x60FF and not (tag >> 16) & 1]


@pytest.mark.parametrize("profile", ["ps3.15-basic", "tcia"])
def test_overlays_go_as_a_whole_module(profiles, read_test_file, profile):
    ds = read_test_file("examples_overlay.dcm")
    assert 0x60003000 in ds and 0x60000010 in ds
    profiles[profile].deidentify(ds)
    assert _overlay_tags(ds) == []  # not Overlay Data alone: the module without its Type 1 data


def test_basic_d_sequences_keep_their_items_and_dummy_their_text(profiles, read_test_file):
    ds = read_test_file("test-SR.dcm")
    texts_before = len(list(_all(ds, "TextValue")))
    observers_before = len(ds.get("VerifyingObserverSequence", []))
    assert texts_before and observers_before
    profiles["ps3.15-basic"].deidentify(ds)
    assert len(ds.ContentSequence) > 0  # D: a non-zero length value, not an emptied sequence
    texts = [elem.value for elem in _all(ds, "TextValue")]
    assert len(texts) == texts_before and set(texts) == {"ANONYMIZED"}
    assert len(ds.VerifyingObserverSequence) == observers_before
    item = ds.VerifyingObserverSequence[0]
    assert str(item.VerifyingObserverName) == "ANONYMIZED" and item.VerifyingOrganization == "ANONYMIZED"
    assert len(item.VerifyingObserverIdentificationCodeSequence) == 0  # Z, Type 2
    assert set(map(str, (e.value for e in _all(ds, "PersonName")))) <= {"ANONYMIZED"}


def test_basic_sequences_with_a_removal_choice_are_removed_or_kept_valid(profiles, read_test_file):
    ds = read_test_file("CT_small.dcm")
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.3"
    ref.ReferencedSOPInstanceUID = "1.2.3.4.5"
    ds.ReferencedStudySequence = [Dataset()]
    ds.ReferencedPerformedProcedureStepSequence = [ref]
    profiles["ps3.15-basic"].deidentify(ds)
    assert "ReferencedStudySequence" not in ds  # X/Z on a Type 3 sequence: X
    kept = ds.ReferencedPerformedProcedureStepSequence  # X/Z/D, Type 1C in DX Series: D
    assert len(kept) == 1 and kept[0].ReferencedSOPClassUID == "1.2.840.10008.3.1.2.3.3"
    assert kept[0].ReferencedSOPInstanceUID != "1.2.3.4.5"  # remapped by its own rule


def test_tcia_empties_or_dummies_what_an_iod_requires(profiles, read_test_file):
    sr = read_test_file("test-SR.dcm")
    assert list(_all(sr, "VerifyingObserverIdentificationCodeSequence"))
    profiles["tcia"].deidentify(sr)
    codes = list(_all(sr, "VerifyingObserverIdentificationCodeSequence"))
    assert codes and all(len(elem.value) == 0 for elem in codes)  # TCIA Z: empty, Type 2
    plan = read_test_file("rtplan.dcm")
    plan.OperatorsName = "Operator^Olga"
    profiles["tcia"].deidentify(plan)
    assert "OperatorsName" in plan and plan["OperatorsName"].is_empty  # Type 2 in RT Series
    liver = read_test_file("liver_1frame.dcm")
    liver.DeviceSerialNumber = "SN-0042"
    profiles["tcia"].deidentify(liver)
    assert liver.DeviceSerialNumber == "ANONYMIZED"  # Type 1 in Enhanced General Equipment
