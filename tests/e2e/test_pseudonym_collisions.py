"""Pseudonyms never merge two patients: with a template whose space is deliberately tiny, every
collision is found (whichever worker made it, and across a resumed run), the file that would
merge is quarantined with a reason naming the rule and the fix, and no reason quotes a value."""
from __future__ import annotations

import csv
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
RULES = """version 1
key = secret("DEIDC_KEY")
PatientID -> pseudonym "P{hmac:1}"
PatientName -> replace PatientID
vr UI except SOPClassUID -> remap uid
default -> keep
"""
PATIENTS = [f"MRN{n:07d}" for n in range(3592, 3592 + 14)]  # 14 patients, 10 pseudonyms: merges certain


def _inputs(root: Path) -> Path:
    source = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    del source.OtherPatientIDsSequence  # one ID per patient here; two IDs of one file: below
    for n, patient in enumerate(PATIENTS):
        for k in range(2):  # two files per patient: a patient's own files share its pseudonym
            ds = source.copy()
            ds.PatientID, ds.PatientName = patient, f"Doe^Patient{n}"
            ds.StudyInstanceUID = ds.SeriesInstanceUID = generate_uid(entropy_srcs=[patient])
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[patient, str(k)])
            (root / f"{n:02d}-{k}.dcm").parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(root / f"{n:02d}-{k}.dcm")
    return root


def _released(out: Path) -> dict[str, set[str]]:
    """pseudonym -> the original patients whose files hold it (by the file's patient name)."""
    merged: dict[str, set[str]] = {}
    for path in out.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        merged.setdefault(str(ds.PatientID), set()).add(str(ds.StudyInstanceUID))
    return merged


@pytest.mark.parametrize("workers", ["1", "2"])
def test_no_two_patients_share_a_pseudonym(deidc, tmp_path, workers):
    rules = tmp_path / "rules.deid"
    rules.write_text(RULES)
    inputs, out = _inputs(tmp_path / "in"), tmp_path / "out"
    run = deidc("apply", rules, inputs, "-o", out, "--no-progress", "--workers", workers)
    assert run.returncode == 3, run.stdout + run.stderr
    released = _released(out)
    assert all(len(studies) == 1 for studies in released.values()), released  # one patient each
    with (out / "quarantine.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(released) + len({r["file"].rsplit("-", 1)[0] for r in rows}) == len(PATIENTS)
    assert all(r["reason"].startswith("pseudonym collision") for r in rows), rows
    assert all("rules.deid:3" in r["reason"] and "{hmac:" in r["reason"] for r in rows), rows
    text = (out / "quarantine.csv").read_text() + run.stdout + run.stderr
    assert not any(p in text for p in PATIENTS)  # never the values
    with (out / "mappings" / "patid_mapping.csv").open(newline="") as fh:
        mapped = [row["id_new"] for row in csv.DictReader(fh)]
    assert len(mapped) == len(set(mapped)) == len(released)
    # the patient first in input order keeps its pseudonym: the losers' files come later
    for row in rows:
        n = int(Path(row["file"]).name[:2])
        assert n > 0
    # both files of a losing patient are quarantined, never one of them
    losers = [Path(r["file"]).name[:2] for r in rows]
    assert all(losers.count(n) == 2 for n in losers)


def test_two_ids_of_one_file_that_share_a_pseudonym_are_a_collision_too(deidc, tmp_path):
    """CT_small's OtherPatientIDsSequence holds two other IDs: with this key and {hmac:1} one of
    them gets the same pseudonym as another ID of the file, which would make them one identity."""
    rules = tmp_path / "rules.deid"
    rules.write_text(RULES)
    inputs = tmp_path / "in"
    inputs.mkdir()
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    ids = [ds.PatientID] + [item.PatientID for item in ds.OtherPatientIDsSequence]
    from deidc.runtime.interpret import pseudonyms

    def collides(key: str) -> bool:
        return len({pseudonyms.pseudonym(key.encode(), i, "P{hmac:1}") for i in ids}) < len(set(ids))

    key = next(k for k in (f"collision-test-key-{n:04d}-0123456789" for n in range(1000)) if collides(k))
    ds.save_as(inputs / "one.dcm")
    run = deidc("apply", rules, inputs, "-o", tmp_path / "out", "--no-progress", "--workers", "1", key=key)
    assert run.returncode == 3
    with (tmp_path / "out" / "quarantine.csv").open(newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert "a different value in this same file" in row["reason"]
    assert not any(i in row["reason"] for i in ids)
