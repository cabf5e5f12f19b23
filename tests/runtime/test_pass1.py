"""Pass 1 (the PHI of each patient over all of their files) trusts only files pass 2 would read,
and shares nothing between files that have no patient key. Found by the fault suite: a cut file's
garbage was collected as PHI, and files without PatientID and StudyInstanceUID shared their PHI."""
from __future__ import annotations

import pytest

from deidc.runtime import worker

RULES = """\
version 1
collect PatientName, StudyTime as phi
StudyDescription -> clean phi fuzzy 90
"""


@pytest.fixture
def pass1(compile_plan):
    worker.STATE.update(plan=compile_plan(RULES), codec="fast")
    return worker.gather_phi


@pytest.mark.parametrize("codec", ["fast", "reference"])
def test_a_cut_file_gives_no_phi(pass1, read_test_file, tmp_path, codec):
    ds = read_test_file("CT_small.dcm")
    ds.PatientName = "GALLOWAY^REBECCA"
    whole = tmp_path / "whole.dcm"
    ds.save_as(whole)
    data = whole.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: len(data) // 2])
    worker.STATE["codec"] = codec
    patient, found = pass1(str(whole))
    assert ("name", "GALLOWAY^REBECCA") in found["phi"]
    assert pass1(str(cut)) is None


def test_a_file_without_a_patient_key_shares_nothing(pass1, read_test_file, tmp_path):
    ds = read_test_file("CT_small.dcm")
    del ds.PatientID
    del ds.StudyInstanceUID
    path = tmp_path / "nokey.dcm"
    ds.save_as(path)
    assert pass1(str(path)) is None
