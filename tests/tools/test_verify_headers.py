"""`deidc verify`'s header scan (tools/verify/headers.py): one leaky output per finding kind.

The input is pydicom's CT_small.dcm; the clean output is made from it here, by hand (private
groups but GE's acquisition block removed, PHI attributes removed, dates shifted, UIDs new, the
patient renamed to its pseudonym), and gives no finding; each test plants one leak in a copy of
it and finds it, with a detail and a path that never hold the planted value.
"""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from deidc.dicom import dictionary_vr
from deidc.tools.verify import Finding
from deidc.tools.verify.headers import private_kb, scan_headers

CT_SMALL = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
PSEUDONYM = "PSEUDO-0001"
REMOVED = ["InstanceCreationTime", "StudyTime", "SeriesTime", "AcquisitionTime", "ContentTime", "AccessionNumber",
           "InstitutionName", "ReferringPhysicianName", "TimezoneOffsetFromUTC", "StationName", "StudyDescription",
           "PatientBirthDate", "PatientSex", "OtherPatientIDsSequence", "PatientAge", "PatientWeight",
           "AdditionalPatientHistory", "ContrastBolusAgent", "StudyID", "ImageComments", "DataSetTrailingPadding"]


def original() -> Dataset:
    return pydicom.dcmread(CT_SMALL)


def deidentify(ds: Dataset, pseudonym: str = PSEUDONYM, days: int = -100) -> Dataset:
    """A clean output of `ds`, made by hand."""
    out = copy.deepcopy(ds)
    for tag in [t for t in out.keys() if (t >> 16) & 1 and (t >> 16) != 0x0019]:
        del out[tag]
    for keyword in REMOVED:
        if keyword in out:
            delattr(out, keyword)
    for elem in out:
        if elem.VR == "DA" and elem.value:
            elem.value = (dt.datetime.strptime(elem.value, "%Y%m%d") + dt.timedelta(days=days)).strftime("%Y%m%d")
        elif elem.VR == "UI" and elem.keyword != "SOPClassUID":
            elem.value = generate_uid(entropy_srcs=[str(elem.value), "salt"])
    out.PatientName = out.PatientID = pseudonym
    del out.file_meta.SourceApplicationEntityTitle
    out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    return out


def scan(tmp_path: Path, out: Dataset, before: Dataset | None) -> list[Finding]:
    path = tmp_path / "out.dcm"
    out.save_as(path)
    return list(scan_headers(path, "out.dcm", before))


def assert_silent(findings: list[Finding], *planted: str) -> None:
    for finding in findings:
        for value in planted:
            for text in (finding.path, finding.detail, finding.file):
                assert value.upper() not in text.upper(), finding


def kinds(findings: list[Finding]) -> dict[str, str]:
    return {f.path: f.kind for f in findings}


@pytest.mark.parametrize("with_input", [True, False])
def test_the_clean_output_has_no_finding(tmp_path, with_input):
    before = original()
    assert scan(tmp_path, deidentify(before), before if with_input else None) == []


def test_the_input_itself_is_full_of_findings(tmp_path):
    before = original()
    found = kinds(scan(tmp_path, original(), before))
    assert found["(0010,0010)"] == "name-kept"
    assert found["(0008,0020)"] == "date-not-shifted"
    assert found["(0008,0080)"] == "e1-removed-attribute-present"
    assert found["(0009,1002)"] == "private-not-safe"
    assert found["(0002,0016)"] == found["(0002,0003)"] == "file-meta-identifies"
    assert "(0019,1002)" not in found  # TCIA's KB keeps it


def test_name_kept_at_the_same_path_and_as_a_part_of_the_patients_name(tmp_path):
    before = original()
    out = deidentify(before)
    out.PatientName = before.PatientName
    item = Dataset()
    item.PersonName = "Dr^CompressedSamples"  # the input patient's family name, in a nested name
    out.ContentSequence = Sequence([item])
    findings = scan(tmp_path, out, before)
    assert kinds(findings) == {"(0010,0010)": "name-kept", "(0040,a730)[0]/(0040,a123)": "name-kept"}
    assert_silent(findings, "CompressedSamples", "CT1")


def test_a_name_without_the_input_is_for_a_curator(tmp_path):
    out = deidentify(original())
    out.OperatorsName = "Watson^Jane"
    out.PerformingPhysicianName = "ANONYMIZED"  # a dummy, no one's name
    findings = scan(tmp_path, out, None)
    assert kinds(findings) == {"(0008,1070)": "pn-present"}
    assert_silent(findings, "Watson", "Jane")


def test_date_not_shifted(tmp_path):
    before = original()
    out = deidentify(before)
    out.StudyDate = before.StudyDate
    findings = scan(tmp_path, out, before)
    assert kinds(findings) == {"(0008,0020)": "date-not-shifted"}
    assert_silent(findings, before.StudyDate)


def test_full_dates_retained_by_a_declared_option_are_no_finding(tmp_path):
    before = original()
    out = deidentify(before)
    out.StudyDate = before.StudyDate
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "113106", "DCM"
    out.DeidentificationMethodCodeSequence = Sequence([code])
    assert scan(tmp_path, out, before) == []


def test_removed_attribute_present(tmp_path):
    before = original()
    out = deidentify(before)
    out.InstitutionAddress = "12 Elm Street"  # X: any value is a finding, with or without the input
    findings = scan(tmp_path, out, before)
    assert kinds(findings) == {"(0008,0081)": "e1-removed-attribute-present"}
    assert kinds(scan(tmp_path, out, None)) == {"(0008,0081)": "e1-removed-attribute-present"}
    assert_silent(findings, "Elm")


def test_x_or_dummy_attributes_are_findings_only_with_the_inputs_value(tmp_path):
    before = original()
    out = deidentify(before)
    out.StationName = "DUMMY"  # X/Z/D: a dummy is allowed
    assert scan(tmp_path, out, before) == []
    out.StationName = before.StationName
    findings = scan(tmp_path, out, before)
    assert kinds(findings) == {"(0008,1010)": "e1-removed-attribute-present"}
    assert scan(tmp_path, out, None) == []  # without the input, a dummy cannot be told from the value
    assert_silent(findings, before.StationName)


def test_attribute_unchanged(tmp_path):
    before = original()
    before.AccessionNumber = "ACC778899"
    out = deidentify(before)
    out.AccessionNumber = "ACC778899"  # Z
    findings = scan(tmp_path, out, before)
    assert kinds(findings) == {"(0008,0050)": "e1-attribute-unchanged"}
    assert_silent(findings, "ACC778899")


def test_a_declared_option_that_cleans_the_attribute_keeps_it_from_the_e1_check(tmp_path):
    before = original()
    out = deidentify(before)
    out.StudyDescription = before.StudyDescription  # X, but C under the Clean Descriptors Option
    assert kinds(scan(tmp_path, out, before)) == {"(0008,1030)": "e1-removed-attribute-present"}
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "113105", "DCM"
    out.DeidentificationMethodCodeSequence = Sequence([code])
    assert scan(tmp_path, out, before) == []


def test_private_elements_not_listed_safe(tmp_path):
    before = original()
    out = deidentify(before)
    block = out.private_block(0x0033, "ACME SECRET 1", create=True)  # not in TCIA's KB
    block.add_new(0x01, "LO", "Holmes Sherlock")
    out.add_new(0x00091002 - 0x1002 + 0x0010, "LO", "GEMS_IDEN_01")
    out.add_new(0x00091002, "SH", before[0x00091002].value)  # d in TCIA's KB
    findings = scan(tmp_path, out, before)
    assert kinds(findings) == {"(0033,1001)": "private-not-safe", "(0009,1002)": "private-not-safe"}
    assert_silent(findings, "Holmes", "CT01")


def test_private_elements_to_offset_are_findings_when_unchanged(tmp_path):
    before = original()
    assert private_kb()[((0x0009, 1, "GEMS_IDEN_01", 0x27),)] == {"oi"}
    out = deidentify(before)
    out.add_new(0x00090010, "LO", "GEMS_IDEN_01")
    out.add_new(0x00091027, "SL", before[0x00091027].value - 8640000)  # offset by 100 days
    assert scan(tmp_path, out, before) == []
    assert kinds(scan(tmp_path, out, None)) == {"(0009,1027)": "private-not-safe"}  # cannot tell
    # ... unless the run's audit says it changed the element
    out.save_as(tmp_path / "out.dcm")
    assert list(scan_headers(tmp_path / "out.dcm", "out.dcm", None, frozenset({"(0009,1027)"}))) == []
    assert kinds(scan_headers(tmp_path / "out.dcm", "out.dcm", None, frozenset({"(0009,1028)"}))) == {
        "(0009,1027)": "private-not-safe"}
    out[0x00091027].value = before[0x00091027].value
    findings = scan(tmp_path, out, before)
    assert kinds(findings) == {"(0009,1027)": "private-not-safe"}
    assert_silent(findings, str(before[0x00091027].value))


def test_unknown_standard_element(tmp_path):
    before = original()
    out = deidentify(before)
    assert dictionary_vr(0x00209999) is None
    out.add_new(0x00209999, "LO", "Baker Street")
    findings = scan(tmp_path, out, before)
    assert kinds(findings) == {"(0020,9999)": "unknown-standard-element"}
    assert_silent(findings, "Baker")


def test_file_meta_identifies_the_sender_and_the_input(tmp_path):
    before = original()
    out = deidentify(before)
    out.file_meta.SendingApplicationEntityTitle = "HOSPITAL_PACS"
    out.file_meta.MediaStorageSOPInstanceUID = before.SOPInstanceUID
    findings = scan(tmp_path, out, before)
    assert kinds(findings) == {"(0002,0017)": "file-meta-identifies", "(0002,0003)": "file-meta-identifies"}
    assert_silent(findings, "HOSPITAL_PACS", before.SOPInstanceUID)


def test_an_unreadable_file_is_reported(tmp_path):
    path = tmp_path / "out.dcm"
    path.mkdir()  # not a file at all
    assert [f.kind for f in scan_headers(path, "out.dcm", None)] == ["not-dicom"]
