"""`deidc apply` with a rule regex that backtracks without bound (issue 12, observation 7): the
run ends, the file that trips the regex is quarantined with the rule's file:line and a fix hint
(never its value), and the other file of the batch is released. Two workers: the limit given
with --regex-timeout reaches the worker processes (the reason quotes it)."""
from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import pydicom
import pytest

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
HEADER = 'version 1\nkey = secret("DEIDC_KEY")\n'
SLOW_VALUE = "a," * 40  # 80 characters: ^(.*?,){11}P tries every way to pick 11 of the commas
SLOW_TEXT = "a" * 41 + "!"  # ^(a|aa)+$ tries every way to split the letters

# the value is 80 characters, more than LO allows: pydicom warns when it is set
pytestmark = pytest.mark.filterwarnings("ignore:The value length:UserWarning")

CASES = {
    "condition": ("PatientName -> empty\nwhen SeriesDescription ~ /^(.*?,){11}P/ {\n"
                  '    PatientID -> replace "SERIES-P"\n}\n', "SeriesDescription", SLOW_VALUE, 4),
    "clean": ("collect PatientName as phi\nPatientName -> empty\n"
              "ImageComments -> clean phi, regex /^(a|aa)+$/\n", "ImageComments", SLOW_TEXT, 5),
}


def _inputs(root: Path, attribute: str, slow: str) -> None:
    root.mkdir()
    for i, name in enumerate(("good.dcm", "slow.dcm")):
        ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.10.98.{i}"
        setattr(ds, attribute, slow if name == "slow.dcm" else "aa, then P")
        ds.save_as(root / name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_slow_rule_regex_quarantines_its_file_and_the_run_goes_on(case, deidc, tmp_path):
    body, attribute, slow, line = CASES[case]
    rules = tmp_path / "site.deid"
    rules.write_text(HEADER + body, encoding="utf-8")
    _inputs(tmp_path / "in", attribute, slow)
    out = tmp_path / "out"
    started = time.monotonic()
    run = deidc("apply", rules, tmp_path / "in", "-o", out, "--workers", "2", "--no-progress",
                "--regex-timeout", "0.2", timeout=90)
    assert time.monotonic() - started < 60
    assert run.returncode == 3, run.stderr
    with (out / "quarantine.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 2 and Path(rows[1][0]).name == "slow.dcm"
    reason = rows[1][1]
    assert f"(rule {rules}:{line})" in reason and "0.2 s" in reason and "--regex-timeout" in reason
    assert "simplify" in reason and "nested" in reason
    text = (out / "quarantine.csv").read_text(encoding="utf-8")
    assert slow not in text and slow[:10] not in text
    released = sorted(out.rglob("*.dcm"))
    assert len(released) == 1 and pydicom.dcmread(released[0]).PatientName == ""
    audit = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    assert {entry["file"] for entry in audit} == {"good.dcm"}


def test_the_regex_timeout_must_be_a_positive_number(deidc, tmp_path):
    rules = tmp_path / "site.deid"
    rules.write_text(HEADER + "PatientName -> empty\n", encoding="utf-8")
    (tmp_path / "in").mkdir()
    shutil.copyfile(TEST_FILES / "CT_small.dcm", tmp_path / "in" / "ct.dcm")
    run = deidc("apply", rules, tmp_path / "in", "-o", tmp_path / "out", "--regex-timeout", "0")
    assert run.returncode == 2 and "--regex-timeout" in run.stderr


def test_explain_says_the_file_would_be_quarantined(deidc, tmp_path):
    body, attribute, slow, line = CASES["condition"]
    rules = tmp_path / "site.deid"
    rules.write_text(HEADER + body, encoding="utf-8")
    _inputs(tmp_path / "in", attribute, slow)
    run = deidc("explain", rules, tmp_path / "in" / "slow.dcm", "PatientName", timeout=90)
    assert run.returncode == 0, run.stderr
    assert "would be QUARANTINED (exceeds a limit)" in run.stdout and f"(rule {rules}:{line})" in run.stdout
    assert "Traceback" not in run.stderr and slow not in run.stdout
