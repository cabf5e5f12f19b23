"""The files beside the release hold only what they must, and only the run's owner reads them:
audit.jsonl names each file once and quotes no value, warning or OCR'd text; quarantine reasons
summarise exceptions; every sidecar is 0600 (its folder 0700) whatever the umask."""
from __future__ import annotations

import json
import os
import stat
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom import config

from deidc.runtime import audit

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
PLANTED = {"StudyDate": "JOHNDOE1", "FrameOfReferenceUID": "1.2.3.4035592.77"}
RULES = """version 1
key = secret("DEIDC_KEY")
shift = days(hmac(key, PatientID), -30..-1)
StudyDate -> shift shift
vr UI except SOPClassUID -> remap uid
default -> keep
"""


def _inputs(root: Path) -> Path:
    root.mkdir(parents=True)
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    for keyword, value in PLANTED.items():
        setattr(ds, keyword, value)
    ds.save_as(root / "MRN4035592_DOE_JOHN.dcm")
    (root / "notes.txt").write_text("not DICOM")
    return root


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_sidecars_are_private_whatever_the_umask(deidc, tmp_path, umask):
    rules = tmp_path / "rules.deid"
    rules.write_text(RULES)
    inputs, out = _inputs(tmp_path / "in"), tmp_path / "out"
    old = os.umask(umask)  # the CLI inherits it
    try:
        run = deidc("apply", rules, inputs, "-o", out, "--no-progress")
    finally:
        os.umask(old)
    assert run.returncode == 3, run.stderr
    sidecars = [out / "audit.jsonl", out / "quarantine.csv", *(out / "mappings").iterdir()]
    assert len(sidecars) == 4
    for path in sidecars:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((out / "mappings").stat().st_mode) == 0o700


def test_the_audit_names_each_file_once_and_quotes_no_value(deidc, tmp_path):
    rules = tmp_path / "rules.deid"
    rules.write_text(RULES)
    inputs, out = _inputs(tmp_path / "in"), tmp_path / "out"
    run = deidc("apply", rules, inputs, "-o", out, "--no-progress", "--codec", "reference")
    assert run.returncode == 3, run.stderr
    lines = (out / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["file"] for line in lines] == ["MRN4035592_DOE_JOHN.dcm"]
    shifted = [c for c in audit.read_changes(out / "audit.jsonl") if c["path"] == "(0008,0020)"]
    assert shifted[0]["note"] == "invalid DA value (expected YYYYMMDD); emptied"  # the problem, not the value
    text = (out / "audit.jsonl").read_text() + (out / "quarantine.csv").read_text()
    for value in PLANTED.values():
        assert value not in text
    assert pydicom.dcmread(next(out.rglob("*.dcm"))).StudyDate == ""  # fail closed


def test_a_warning_is_summarised_by_kind_and_place():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pydicom.valuerep.validate_value("UI", "1.2.MRN0003592", config.WARN)
    [warning] = caught
    assert "MRN0003592" in str(warning.message)  # what the library says ...
    summary = audit.summarise_warning(warning)
    assert summary.startswith("UserWarning from pydicom/") and "MRN" not in summary  # ... and what we keep


def test_an_error_is_summarised_by_type_and_place():
    try:
        pydicom.valuerep.validate_value("DA", "JOHNDOE1", config.RAISE)
    except ValueError as err:
        assert "JOHNDOE1" in str(err)
        summary = audit.summarise_error(err)
    assert summary.startswith("ValueError in ") and "JOHNDOE1" not in summary
