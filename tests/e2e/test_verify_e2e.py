"""`deidc verify` end to end: a correct release verifies clean (exit 0); a leaky one is caught,
every kind named, no value printed (exit 1); `apply --verify` fails a leaky run (exit 5) and
leaves its files where they are."""
from __future__ import annotations

import json
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
SURNAME, GIVEN, PATIENT_ID, BIRTH = "QUILLFEATHER", "ROSALIND", "MRN55501234", "19571103"
PLANTED = (SURNAME, GIVEN, PATIENT_ID, "55501234", BIRTH)

GOOD_RULES = 'version 1\nuse "tcia"\n'
LEAKY_RULES = """\
version 1
key = secret("DEIDC_KEY")
SOPInstanceUID -> remap uid
PatientID -> pseudonym "P{hmac:20}"
private * -> keep
default -> keep
"""


def _input(tmp_path: Path) -> Path:
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    ds.PatientName = f"{SURNAME}^{GIVEN}"
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = BIRTH
    ds.StudyDescription = f"CT CHEST for {GIVEN.title()} {SURNAME.title()}"
    item = Dataset()
    item.ValueType = "TEXT"
    item.TextValue = f"patient {PATIENT_ID} seen"
    ds.ContentSequence = Sequence([item])
    folder = tmp_path / "in"
    folder.mkdir()
    ds.save_as(folder / "ct.dcm")
    return folder


def _apply(deidc, tmp_path: Path, rules: str, name: str, *extra: str):
    (tmp_path / f"{name}.deid").write_text(rules, encoding="utf-8")
    out = tmp_path / name
    run = deidc("apply", tmp_path / f"{name}.deid", tmp_path / "in", "-o", out, "--insecure-demo-key",
                "--workers", "1", "--no-progress", *extra)
    return run, out


def test_a_correct_release_verifies_clean_and_a_leaky_one_is_caught(tmp_path, deidc):
    _input(tmp_path)
    run, good = _apply(deidc, tmp_path, GOOD_RULES, "good")
    assert run.returncode == 0, run.stdout + run.stderr
    clean = deidc("verify", good, "--against", tmp_path / "in", "--ocr", "none")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "verified 1 file(s), 1 paired with their input" in clean.stdout and "no findings" in clean.stdout
    # without the originals: the release alone, with the run's audit
    alone = deidc("verify", good)
    assert alone.returncode == 0 and "no findings" in alone.stdout, alone.stdout

    run, leaky = _apply(deidc, tmp_path, LEAKY_RULES, "leaky")
    assert run.returncode == 0, run.stdout + run.stderr
    caught = deidc("verify", leaky, "--against", tmp_path / "in", "--ocr", "none", "--format", "json")
    assert caught.returncode == 1, caught.stdout + caught.stderr
    report = json.loads(caught.stdout)
    assert {"name-kept", "date-not-shifted", "phi-in-text", "uid-not-remapped"} <= set(report["counts"])
    paths = {(f["kind"], f["path"]) for f in report["findings"]}
    assert ("phi-in-text", "(0008,1030)") in paths  # StudyDescription holds the name
    assert ("phi-in-text", "(0040,a730)[0]/(0040,a160)") in paths  # the ID, in an SR item
    for value in PLANTED:
        assert value not in caught.stdout.upper(), value
    # without the originals, what the release alone shows: the kept name
    alone = deidc("verify", leaky, "--format", "json")
    assert alone.returncode == 1 and "pn-present" in json.loads(alone.stdout)["counts"]


def test_apply_verify_fails_a_leaky_run_and_keeps_its_files(tmp_path, deidc):
    _input(tmp_path)
    run, leaky = _apply(deidc, tmp_path, LEAKY_RULES, "leaky", "--verify", "--ocr", "rapidocr")
    assert run.returncode == 5, run.stdout + run.stderr
    assert "verify found" in run.stderr and "do not release them" in run.stderr
    assert len(list(leaky.rglob("*.dcm"))) == 1  # the files stay, for inspection
    run, good = _apply(deidc, tmp_path, GOOD_RULES, "good", "--verify")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no findings" in run.stdout


def test_sidecars_are_not_findings(tmp_path, deidc):
    _input(tmp_path)
    _, good = _apply(deidc, tmp_path, GOOD_RULES, "good")
    (good / "review.jsonl").write_text('{"words": "QUILLFEATHER"}\n', encoding="utf-8")
    result = deidc("verify", good, "--against", tmp_path / "in", "--ocr", "none")
    assert result.returncode == 0, result.stdout
