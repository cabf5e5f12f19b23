"""Pass 1 (the PHI of each patient over all of their files) trusts only files pass 2 would read,
and shares nothing between files that have no patient key. Found by the fault suite: a cut file's
garbage was collected as PHI, and files without PatientID and StudyInstanceUID shared their PHI."""
from __future__ import annotations

import pytest
from pydicom.uid import ImplicitVRLittleEndian

from deidc.runtime.batch import worker
from deidc.runtime.interpret.walk import DatasetDeidentifier
from deidc.runtime.limits import LimitExceeded

RULES = """\
version 1
collect PatientName, StudyTime as phi
StudyDescription -> clean phi fuzzy 90
"""


@pytest.fixture
def pass1(compile_plan, tmp_path):
    """gather_phi in this process, configured as a worker of a run with RULES would be."""
    plan = compile_plan(RULES)

    def gather(path_text: str, codec: str = "fast"):
        worker.configure(worker.WorkerSetup(plan, {}, tmp_path, tmp_path, codec=codec))
        return worker.gather_phi(path_text)

    return gather


@pytest.mark.parametrize("codec", ["fast", "reference"])
def test_a_cut_file_gives_no_phi(pass1, read_test_file, tmp_path, codec):
    ds = read_test_file("CT_small.dcm")
    ds.PatientName = "GALLOWAY^REBECCA"
    whole = tmp_path / "whole.dcm"
    ds.save_as(whole)
    data = whole.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: len(data) // 2])
    patient, found = pass1(str(whole), codec)
    assert ("name", "GALLOWAY^REBECCA") in found["phi"]
    assert pass1(str(cut), codec) is None


def test_a_file_without_a_patient_key_shares_nothing(pass1, read_test_file, tmp_path):
    ds = read_test_file("CT_small.dcm")
    del ds.PatientID
    del ds.StudyInstanceUID
    path = tmp_path / "nokey.dcm"
    ds.save_as(path)
    assert pass1(str(path)) is None


def test_a_huge_collected_value_is_not_shared_with_the_patients_other_files(pass1, read_test_file, tmp_path):
    """A 2 MB PatientAddress (collected) made every file of the patient build PHI from it: a
    batch of such files ran for minutes. The file with it is quarantined (pass 2); its value is
    never PHI for the others."""
    ds = read_test_file("CT_small.dcm")
    ds.PatientName = "ZQX" + "A" * (2 << 20)  # longer than the text `clean` reads (1 MiB)
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian  # PN over 64 KiB: explicit VR cannot hold it
    path = tmp_path / "huge.dcm"
    ds.save_as(path, implicit_vr=True)
    assert pass1(str(path)) is None


def test_a_huge_collected_value_quarantines_its_file(compile_plan, key, read_test_file):
    ds = read_test_file("CT_small.dcm")
    ds.PatientName = "ZQX" + "A" * (2 << 20)
    outcome = DatasetDeidentifier(compile_plan(RULES), {"key": key}).deidentify_batch([(ds, None)])[0]
    assert isinstance(outcome.error, LimitExceeded)
    assert "collected" in str(outcome.error) and "--max-clean-chars" in str(outcome.error)
    assert "ZQX" not in str(outcome.error)
