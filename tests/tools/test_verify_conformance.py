"""`deidc verify --conformance`: dciodvfy on each output and its input, the errors de-identification added.

The scrubbing of values out of dciodvfy's messages is tested on its own (no dciodvfy needed); the
check itself on pydicom's CT_small.dcm, copied as an input with defects of its own and as an
output with one defect more (skipped when dciodvfy, Debian's dicom3tools, is not installed).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest

from deidc.tools.verify import Finding
from deidc.tools.verify.conformance import (
    ERROR,
    MISSING_DCIODVFY,
    NEW_ERROR,
    UNCHECKED,
    attribute_path,
    check_conformance,
    dciodvfy_path,
    parse,
    scrub,
)

CT_SMALL = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
needs_dciodvfy = pytest.mark.skipif(dciodvfy_path() is None, reason=MISSING_DCIODVFY)

# lines as dciodvfy prints them (Debian dicom3tools 1.00~20220618), each quoting a value (SECRET, 5551234)
RAW = [
    "Value invalid for this VR - (0x0020,0x000d) UI Study Instance UID  UI [1] = <1.2.840.SECRET> - "
    "Character invalid for this VR = 'S' (0x53)",
    "Value dubious for this VR - (0x0010,0x0010) PN Patient's Name  PN [1] = <SECRET Smith> - Retired Person Name form",
    "Value invalid for this VR - (0x0019,0x1060)  ?  UT [1] = <<?xml SECRET=\"1\"?> - <b>SECRET</b>",
    'Illegal root for UID - "9.8.7.6.5551234" in (0x0008,0x1155) Referenced SOP Instance UID',
    "Referenced SOP Instance is not listed in CurrentRequestedProcedureEvidenceSequence or "
    "PertinentOtherEvidenceSequence but have IMAGE ReferencedSOPInstanceUID 1.2.3.5551234",
    "Unrecognized defined term <SECRET> for value 1 of attribute <Coding Scheme Designator>",
    "CodingSchemeDesignator is deprecated - attribute <CodingSchemeDesignator> = <SECRET>",
    "StudyInstanceUID has same value as FrameOfReferenceUID <1.2.5551234>",
    "EstimatedRadiographicMagnificationFactor does not match ratio - values are 1.5551234, 1000, 5551234",
    "PixelSpacing = SECRET versus ImagerPixelSpacing = 0.5551234 - reason",
]


def test_scrub_leaves_no_value_and_keeps_the_names():
    for raw in RAW:
        scrubbed = scrub(raw)
        assert "SECRET" not in scrubbed and "5551234" not in scrubbed and "'S'" not in scrubbed, scrubbed
    assert scrub(RAW[0]) == ("Value invalid for this VR - (0020,000d) UI Study Instance UID UI [1] = <…> - "
                             "Character invalid for this VR = '…' (#)")
    assert scrub(RAW[5]) == "Unrecognized defined term <…> for value 1 of attribute <Coding Scheme Designator>"
    missing = "Missing attribute Type 1C Conditional Element=<PixelData> Module=<ImagePixel>"
    assert scrub(missing) == missing


def test_the_same_defect_with_another_value_scrubs_the_same():
    assert scrub(RAW[3]) == scrub(RAW[3].replace("9.8.7.6.5551234", "2.25.1234"))
    assert scrub(RAW[0]) == scrub(RAW[0].replace("SECRET", "OTHER").replace("'S' (0x53)", "'O' (0x4f)"))


def test_attribute_path_is_the_tag_named():
    assert attribute_path(RAW[0]) == "(0020,000d)"
    assert attribute_path("Missing attribute Type 2 Required Element=<PatientID> Module=<Patient>") == "(0010,0020)"
    assert attribute_path(RAW[5]) == "(0008,0102)"  # by the attribute's name
    assert attribute_path("Dicom dataset read failed") == ""


def test_parse_keeps_error_lines_only():
    report = parse("CTImage\nWarning - w1\nError - Missing attribute Type 1 Required Element=<Rows> Module=<ImagePixel>\n"
                   "Warning - w2\n\tElement <CodeValue> not present\n")
    assert report.warnings == 2
    assert report.errors == (("(0028,0010)", "Missing attribute Type 1 Required Element=<Rows> Module=<ImagePixel>"),)


def test_a_missing_dciodvfy_is_said_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr("deidc.tools.verify.conformance.shutil.which", lambda name: None)
    assert dciodvfy_path() is None
    with pytest.raises(FileNotFoundError, match=r"install Debian's dicom3tools \(apt-get install dicom3tools\)"):
        check_conformance({}, tmp_path)


def _write(path: Path, **changes: object) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns of the invalid values written on purpose
        ds = pydicom.dcmread(CT_SMALL)
        for keyword, value in changes.items():
            if value is ...:
                delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path)
    return path


@pytest.fixture
def tree(tmp_path):
    """An input with errors of its own (PatientID missing, a UID with a PHI-like value in it) and
    its output, which keeps both (the UID with another value) and loses a Type 1 value."""
    original = _write(tmp_path / "in" / "a.dcm", PatientID=..., StudyInstanceUID="1.2.840.SECRETONE")
    out = tmp_path / "out"
    output = _write(out / "x" / "a.dcm", PatientID=..., StudyInstanceUID="1.2.840.SECRETTWO",
                    ImagePositionPatient=None)
    return out, {output: original}


@needs_dciodvfy
def test_the_one_error_de_identification_added_is_found(tree):
    out, pairs = tree
    result = check_conformance(pairs, out)
    assert result.findings == [Finding(NEW_ERROR, "x/a.dcm", "(0020,0032)",
                                       "Empty attribute (no value) Type 1 Required Element=<ImagePositionPatient> "
                                       "Module=<ImagePlane>")]
    assert result.files_checked == result.paired == 1 and result.unpaired == 0


@needs_dciodvfy
def test_the_inputs_own_errors_are_counted_apart(tree):
    out, pairs = tree
    result = check_conformance(pairs, out)
    own = set(result.input_error_messages)
    assert "Missing attribute Type 2 Required Element=<PatientID> Module=<Patient>" in own
    assert any(m.startswith("Value invalid for this VR - (0020,000d) UI Study Instance UID") for m in own)
    assert result.carried_errors == result.input_errors == len(own) >= 3  # the VR summary line too; all carried, none new
    assert all("PatientID" not in f.detail and "(0020,000d)" != f.path for f in result.findings)


@needs_dciodvfy
def test_no_value_in_any_detail(tmp_path):
    out = tmp_path / "out"
    original = _write(tmp_path / "in" / "a.dcm")
    output = _write(out / "a.dcm", SeriesDate="2020SECRET")
    alone = _write(out / "b.dcm", StudyDate="1999SECRET", SOPInstanceUID="1.2.3.4.5551234")
    result = check_conformance({output: original, alone: None}, out)
    assert {f.kind for f in result.findings} == {NEW_ERROR, ERROR}
    assert result.unpaired == 1 and result.files_checked == 2
    assert any(f.path == "(0008,0021)" and f.kind == NEW_ERROR for f in result.findings)
    assert any(f.path == "(0008,0020)" and f.file == "b.dcm" and f.kind == ERROR for f in result.findings)
    for finding in result.findings:
        for text in ("SECRET", "2020", "1999", "5551234", "'S'", "'E'"):
            assert text not in finding.detail, finding


@needs_dciodvfy
def test_a_crash_on_the_output_alone_is_reported(tmp_path):
    out = tmp_path / "out"
    original = _write(tmp_path / "in" / "a.dcm")
    output = out / "a.dcm"
    output.parent.mkdir(parents=True)
    output.write_bytes(b"not dicom")
    fake = tmp_path / "dciodvfy"  # a dciodvfy that aborts on the output only
    fake.write_text(f"#!/bin/sh\ncase \"$1\" in *out/*) kill -ABRT $$;; esac\nexec {dciodvfy_path()} \"$1\"\n")
    fake.chmod(0o755)
    result = check_conformance({output: original}, out, exe=str(fake))
    assert [(f.kind, f.file) for f in result.findings] == [(UNCHECKED, "a.dcm")]
