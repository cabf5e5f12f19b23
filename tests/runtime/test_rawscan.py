"""Pass 1's header scan finds exactly what `collected_values` finds in the parsed dataset, or
hands the file to the parser."""
from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest

from deidc.compiler import compile_or_raise
from deidc.resources import RULESETS_DIR
from deidc.runtime.batch import worker
from deidc.runtime.codec.rawread import NotForFastEngine
from deidc.runtime.codec.rawscan import scan_collected

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def _files() -> list[Path]:
    import deid_data

    deid_root = Path(deid_data.__file__).parent
    return sorted([*TEST_FILES.rglob("*.dcm"), *deid_root.rglob("*.dcm")])


@pytest.fixture(scope="module")
def plan():
    return compile_or_raise(RULESETS_DIR / "tcia.deid").plan


def _parsed(path: Path, plan):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = worker._headers(path, "fast")
    patient = str(ds.get("PatientID", "") or "").strip() or str(ds.get("StudyInstanceUID", "") or "")
    return patient, {name: worker.collected_values(ds, c.tags) for name, c in plan.collects.items()}


def test_scan_agrees_with_the_parsed_dataset(plan):
    scanned = 0
    for path in _files():
        try:
            found = worker._scanned_phi(path, plan)
        except NotForFastEngine:
            continue
        scanned += 1
        assert found == _parsed(path, plan), path.name
    assert scanned >= 15  # most test files are odd on purpose; real archives are mostly plain


def test_scan_refuses_what_it_does_not_decode(tmp_path):
    big_endian = TEST_FILES / "MR_small_bigendian.dcm"
    with pytest.raises(NotForFastEngine):
        scan_collected(big_endian, {0x00100010})
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    ds.SpecificCharacterSet = "ISO 2022 IR 87"  # escape sequences: pydicom decodes it
    path = tmp_path / "jis.dcm"
    ds.save_as(path)
    with pytest.raises(NotForFastEngine):
        scan_collected(path, {0x00100010})


def test_scan_finds_values_in_sequences(tmp_path):
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    item = pydicom.Dataset()
    item.PatientName = "INNER^NAME"
    ds.OtherPatientIDsSequence = [item]
    ds.PatientName = "OUTER^NAME"
    path = tmp_path / "seq.dcm"
    ds.save_as(path)
    patient, values = scan_collected(path, {0x00100010})
    assert patient == ds.PatientID
    assert values == [(0x00100010, ["OUTER^NAME"]), (0x00100010, ["INNER^NAME"])]
