"""`deidc verify --against`'s consistency scan (tools/verify/consistency.py) over a small release.

Inputs: pydicom's CT_small.dcm as two patients of two files each (IDs, names, UIDs and dates of
their own). The clean release gives each patient a pseudonym and one date shift, and every file
new UIDs: no finding. Each test breaks one thing in one output and finds it, with a detail and a
path that never hold a value (an ID, a UID, a shift).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from deidc.tools.verify import Finding
from deidc.tools.verify.consistency import scan_consistency

CT_SMALL = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
PATIENTS = {"PAT-A-4711": ("PSEUDO-A", -100), "PAT-B-0815": ("PSEUDO-B", -250)}
SECRETS = ["PAT-A-4711", "PAT-B-0815", "-100", "-250", "100", "250"]


def _shift(text: str, days: int) -> str:
    return (dt.datetime.strptime(text, "%Y%m%d") + dt.timedelta(days=days)).strftime("%Y%m%d")


def _input(patient: str, number: int) -> Dataset:
    ds = pydicom.dcmread(CT_SMALL)
    for tag in [t for t in ds.keys() if (t >> 16) & 1]:
        del ds[tag]
    ds.PatientID, ds.PatientName = patient, f"{patient}^Name"
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[patient, "study"])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[patient, str(number)])
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = generate_uid(entropy_srcs=[patient, "other"])
    ds.ReferencedImageSequence = Sequence([ref])
    return ds


def _output(before: Dataset) -> Dataset:
    pseudonym, days = PATIENTS[before.PatientID]
    out = pydicom.dcmread(CT_SMALL)  # a fresh copy, changed to the input's de-identified values
    for tag in [t for t in out.keys() if (t >> 16) & 1]:
        del out[tag]
    del out.OtherPatientIDsSequence
    out.PatientID = out.PatientName = pseudonym
    for elem in out:
        if elem.VR == "DA" and elem.value:
            elem.value = _shift(before[elem.tag].value, days)
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "SOPInstanceUID", "InstanceCreatorUID"):
        setattr(out, keyword, generate_uid(entropy_srcs=[str(before[keyword].value), "new"]))
    out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    ref = Dataset()
    ref.ReferencedSOPClassUID = out.SOPClassUID  # a SOP class: the same in every release
    ref.ReferencedSOPInstanceUID = generate_uid(entropy_srcs=[before.ReferencedImageSequence[0].ReferencedSOPInstanceUID])
    out.ReferencedImageSequence = Sequence([ref])
    return out


@pytest.fixture
def release(tmp_path):
    """(out folder, {name: input Dataset}, {name: output Dataset}); `scan()` writes and scans them."""
    inputs = {f"{p[4]}{n}": _input(p, n) for p in PATIENTS for n in (1, 2)}
    return tmp_path / "out", inputs, {name: _output(ds) for name, ds in inputs.items()}


def scan(tmp_path: Path, release) -> list[Finding]:
    out, inputs, outputs = release
    (tmp_path / "in").mkdir(exist_ok=True)
    out.mkdir(exist_ok=True)
    pairs = {}
    for name in inputs:
        inputs[name].save_as(tmp_path / "in" / f"{name}.dcm")
        outputs[name].save_as(out / f"{name}.dcm")
        pairs[out / f"{name}.dcm"] = tmp_path / "in" / f"{name}.dcm"
    findings = list(scan_consistency(out, sorted(pairs), pairs))
    for finding in findings:
        for value in SECRETS + [str(elem.value) for ds in inputs.values() for elem in ds if elem.VR == "UI"]:
            assert value not in f"{finding.path} {finding.detail}", finding
    return findings


def test_the_clean_release_has_no_finding(tmp_path, release):
    assert scan(tmp_path, release) == []


def test_files_without_an_input_are_left_out(tmp_path, release):
    out, inputs, outputs = release
    outputs["A1"].StudyInstanceUID = inputs["A1"].StudyInstanceUID
    scan(tmp_path, release)
    (out / "A1.dcm").unlink()
    outputs["A1"].save_as(out / "A1.dcm")
    pairs = {out / f"{name}.dcm": tmp_path / "in" / f"{name}.dcm" for name in inputs if name != "A1"}
    assert list(scan_consistency(out, sorted(out.iterdir()), pairs)) == []


def test_uid_not_remapped_at_any_depth(tmp_path, release):
    _, inputs, outputs = release
    outputs["A1"].StudyInstanceUID = inputs["A1"].StudyInstanceUID
    outputs["B2"].ReferencedImageSequence[0].ReferencedSOPInstanceUID = \
        inputs["B2"].ReferencedImageSequence[0].ReferencedSOPInstanceUID
    found = {(f.kind, f.file, f.path) for f in scan(tmp_path, release)}
    assert found == {("uid-not-remapped", "A1.dcm", "(0020,000d)"),
                     ("uid-not-remapped", "B2.dcm", "(0008,1140)[0]/(0008,1155)")}


def test_uids_kept_under_the_retain_uids_option_are_no_finding(tmp_path, release):
    _, inputs, outputs = release
    outputs["A1"].StudyInstanceUID = inputs["A1"].StudyInstanceUID
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "113110", "DCM"
    outputs["A1"].DeidentificationMethodCodeSequence = Sequence([code])
    assert scan(tmp_path, release) == []


def test_patient_id_split(tmp_path, release):
    _, _, outputs = release
    outputs["A2"].PatientID = "PSEUDO-A-OTHER"
    findings = scan(tmp_path, release)
    assert [(f.kind, f.path) for f in findings] == [("patient-id-split", "(0010,0020)")]
    assert "A1.dcm" in findings[0].detail and "A2.dcm" in findings[0].detail


def test_patient_ids_merged(tmp_path, release):
    _, _, outputs = release
    for name in ("B1", "B2"):
        outputs[name].PatientID = "PSEUDO-A"
    findings = scan(tmp_path, release)
    assert [(f.kind, f.path) for f in findings] == [("patient-ids-merged", "(0010,0020)")]
    assert "A1.dcm" in findings[0].detail and "B1.dcm" in findings[0].detail


def test_an_emptied_patient_id_neither_splits_nor_merges(tmp_path, release):
    _, _, outputs = release
    for ds in outputs.values():
        ds.PatientID = ""
    assert scan(tmp_path, release) == []


def test_date_offsets_differ_within_a_patient(tmp_path, release):
    _, inputs, outputs = release
    outputs["B2"].ContentDate = _shift(inputs["B2"].ContentDate, -251)
    outputs["A1"].StudyDate = ""  # an emptied date has no offset
    found = [(f.kind, f.file, f.path) for f in scan(tmp_path, release)]
    assert found == [("date-offsets-differ", "B2.dcm", "(0008,0023)")]


def test_each_patient_may_have_an_offset_of_its_own(tmp_path, release):
    _, inputs, outputs = release
    for name in ("B1", "B2"):  # every date of patient B shifted by one day more: still one offset
        for elem in outputs[name]:
            if elem.VR == "DA" and elem.value:
                elem.value = _shift(elem.value, -1)
    assert scan(tmp_path, release) == []


def test_a_dummy_date_is_no_shift(tmp_path, release):
    _, inputs, outputs = release
    for name in ("A1", "A2", "B1", "B2"):  # the Basic Profile's D: one dummy for the input's dates
        outputs[name].SeriesDate = "19000101"
    inputs["A2"].SeriesDate = "19961231"  # so that one patient's dummy has two input dates
    assert scan(tmp_path, release) == []


def test_a_dummy_patient_id_for_everyone_is_no_merge(tmp_path, release):
    _, _, outputs = release
    for ds in outputs.values():
        ds.PatientID = "ANONYMIZED"
    assert scan(tmp_path, release) == []
