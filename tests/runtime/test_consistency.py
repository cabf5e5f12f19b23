"""Consistency: the same UID, patient ID and date offset give the same output in every file, in
every run with the same key and for any worker count; another key gives other output.

Ten files derived from CT_small / MR_small, three patients: one study per patient, one series
per patient and modality, and each file from the fourth on references the instance three files
before it (same patient) in ReferencedImageSequence.
"""
from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidc.compiler import compile_or_raise
from deidc.runtime.batch.folder import run_batch
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.interpret import pseudonyms

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
KEY = "consistency-tests-secret-key-123456"
OTHER_KEY = "consistency-tests-OTHER-key-654321"
ROOT = "1.2.826.0.1.3680043.9999"

PATIENTS = [
    {"id": "PAT-A", "name": "Alpha^Anna", "study_date": "20200101"},
    {"id": "PAT-B", "name": "Bravo^Bob", "study_date": "20200315"},
    {"id": "PAT-C", "name": "Charlie^Chen", "study_date": "20210704"},
]
N_FILES = 10

RULES = """\
version 1
key = secret("DEIDC_KEY")
day_shift = days(hmac(key, PatientID), -3650..-30)
markers "consistency test" codes 113100

PatientID -> pseudonym "SUBJ{hmac:6}"
PatientName -> replace PatientID
AccessionNumber -> hash
vr DA -> shift day_shift
vr UI except SOPClassUID, ReferencedSOPClassUID -> remap uid
private * -> remove
"""


def _sop(i: int) -> str:
    return f"{ROOT}.3.{i}"


def _make_inputs(folder: Path) -> list[dict]:
    """Writes the ten files under folder/<patient>/; returns what each one holds."""
    made = []
    for i in range(N_FILES):
        p = i % len(PATIENTS)
        patient = PATIENTS[p]
        ds = pydicom.dcmread(TEST_FILES / ("CT_small.dcm" if i % 2 == 0 else "MR_small.dcm"))
        ds.PatientID = patient["id"]
        ds.PatientName = patient["name"]
        ds.StudyDate = patient["study_date"]
        ds.AccessionNumber = f"ACC-{p}"
        ds.StudyInstanceUID = f"{ROOT}.1.{p}"
        ds.SeriesInstanceUID = f"{ROOT}.2.{p}.{i % 2}"
        ds.FrameOfReferenceUID = f"{ROOT}.4.{p}"
        ds.SOPInstanceUID = _sop(i)
        ds.file_meta.MediaStorageSOPInstanceUID = _sop(i)
        if i >= len(PATIENTS):
            ref = Dataset()
            ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2" if (i - 3) % 2 == 0 else "1.2.840.10008.5.1.4.1.1.4"
            ref.ReferencedSOPInstanceUID = _sop(i - len(PATIENTS))
            ds.ReferencedImageSequence = Sequence([ref])
        target = folder / patient["id"] / f"img{i:02d}.dcm"
        target.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(target, enforce_file_format=True)
        made.append({"index": i, "patient": patient, "sop": _sop(i), "modality": ds.Modality})
    return made


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("consistency")
    inputs = base / "in"
    made = _make_inputs(inputs)
    rules = base / "rules.deid"
    rules.write_text(RULES, encoding="utf-8")
    plan = compile_or_raise(rules).plan
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEIDC_KEY", KEY)
        keys = resolve_keys(plan)
        mp.setenv("DEIDC_KEY", OTHER_KEY)
        other_keys = resolve_keys(plan)
    return {"base": base, "inputs": inputs, "made": made, "plan": plan, "keys": keys,
            "other_keys": other_keys}


@pytest.fixture(scope="module")
def baseline(corpus):
    """One workers=1 run with KEY, shared by the tests that only read it."""
    out = corpus["base"] / "out-baseline"
    summary = run_batch(corpus["plan"], corpus["keys"], corpus["inputs"], out, workers=1)
    return out, summary


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def read_mapping(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id_old", "id_new"]
    return dict(rows[1:])


def outputs_by_old_sop(out: Path) -> dict[str, pydicom.Dataset]:
    uid_map = read_mapping(out / "mappings" / "uid_mapping.csv")
    by_new = {p.stem: pydicom.dcmread(p) for p in out.rglob("*.dcm")}
    return {old: by_new[new] for old, new in uid_map.items() if new in by_new}


def test_every_file_written(corpus, baseline):
    out, summary = baseline
    assert (summary.files, summary.written, summary.quarantined) == (N_FILES, N_FILES, 0)
    assert len(list(out.rglob("*.dcm"))) == N_FILES
    assert (out / "quarantine.csv").read_text() == "file,reason\n"


def test_same_patient_same_pseudonym_study_and_offset_in_every_file(corpus, baseline):
    out, _ = baseline
    key = corpus["keys"]["key"]
    by_sop = outputs_by_old_sop(out)
    assert len(by_sop) == N_FILES
    seen = {}
    for made in corpus["made"]:
        ds = by_sop[made["sop"]]
        pid = made["patient"]["id"]
        old_date = date.fromisoformat(made["patient"]["study_date"][:4] + "-"
                                      + made["patient"]["study_date"][4:6] + "-"
                                      + made["patient"]["study_date"][6:])
        offset = pseudonyms.shift_offset(key, pid, -3650, -30)
        new_date = (old_date + timedelta(days=offset)).strftime("%Y%m%d")
        values = (ds.PatientID, str(ds.PatientName), ds.StudyInstanceUID, ds.AccessionNumber,
                  ds.StudyDate, ds.FrameOfReferenceUID)
        assert ds.PatientID == pseudonyms.pseudonym(key, pid, "SUBJ{hmac:6}")
        assert str(ds.PatientName) == ds.PatientID
        assert ds.StudyDate == new_date
        assert ds.StudyInstanceUID == pseudonyms.remap_uid(key, f"{ROOT}.1.{PATIENTS.index(made['patient'])}")
        assert seen.setdefault(pid, values) == values, f"file {made['index']} disagrees for {pid}"
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    new_ids = {v[0] for v in seen.values()}
    new_studies = {v[2] for v in seen.values()}
    assert len(new_ids) == len(new_studies) == len(PATIENTS)


def test_same_uid_same_new_uid_across_files(corpus, baseline):
    out, _ = baseline
    key = corpus["keys"]["key"]
    by_sop = outputs_by_old_sop(out)
    for made in corpus["made"]:
        ds = by_sop[made["sop"]]
        assert ds.SOPInstanceUID == pseudonyms.remap_uid(key, made["sop"])
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        if made["index"] >= len(PATIENTS):
            referenced = by_sop[_sop(made["index"] - len(PATIENTS))]
            assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID == referenced.SOPInstanceUID
            assert ds.ReferencedImageSequence[0].ReferencedSOPClassUID == referenced.SOPClassUID
    # one folder per new patient / study, one series folder per modality
    layout = {p.relative_to(out).parts[:3] for p in out.rglob("*.dcm")}
    assert len({parts[:2] for parts in layout}) == len(PATIENTS)
    assert len(layout) == 2 * len(PATIENTS)


def test_mapping_files(corpus, baseline):
    out, summary = baseline
    key = corpus["keys"]["key"]
    patids = read_mapping(out / "mappings" / "patid_mapping.csv")
    assert patids == {p["id"]: pseudonyms.pseudonym(key, p["id"], "SUBJ{hmac:6}") for p in PATIENTS}
    uids = read_mapping(out / "mappings" / "uid_mapping.csv")
    expected_old = ({_sop(i) for i in range(N_FILES)}
                    | {f"{ROOT}.1.{p}" for p in range(3)}
                    | {f"{ROOT}.2.{p}.{m}" for p in range(3) for m in range(2)}
                    | {f"{ROOT}.4.{p}" for p in range(3)})
    assert expected_old <= set(uids)
    assert all(uids[old] == pseudonyms.remap_uid(key, old) for old in expected_old)
    assert "1.2.840.10008.5.1.4.1.1.2" not in uids  # SOP Class UIDs are excepted
    assert summary.uids_mapped == len(uids) and summary.patients_mapped == len(PATIENTS)


def test_two_runs_same_key_byte_identical(corpus, baseline):
    out, _ = baseline
    again = corpus["base"] / "out-again"
    run_batch(corpus["plan"], corpus["keys"], corpus["inputs"], again, workers=1)
    first, second = tree(out), tree(again)
    assert sorted(first) == sorted(second)
    assert {"mappings/uid_mapping.csv", "mappings/patid_mapping.csv", "audit.jsonl",
            "quarantine.csv"} <= set(first)
    for rel in first:
        assert first[rel] == second[rel], rel


def test_one_worker_and_two_workers_byte_identical(corpus, baseline):
    out, _ = baseline
    parallel = corpus["base"] / "out-2-workers"
    summary = run_batch(corpus["plan"], corpus["keys"], corpus["inputs"], parallel, workers=2)
    assert summary.written == N_FILES
    one, two = tree(out), tree(parallel)
    assert sorted(one) == sorted(two)
    for rel in one:
        assert one[rel] == two[rel], rel


def test_different_key_different_output(corpus, baseline):
    out, _ = baseline
    other = corpus["base"] / "out-other-key"
    summary = run_batch(corpus["plan"], corpus["other_keys"], corpus["inputs"], other, workers=1)
    assert summary.written == N_FILES
    a, b = tree(out), tree(other)
    dicom_a = {rel for rel in a if rel.endswith(".dcm")}
    dicom_b = {rel for rel in b if rel.endswith(".dcm")}
    assert len(dicom_a) == len(dicom_b) == N_FILES
    assert not dicom_a & dicom_b  # no output path in common: every UID and ID differs
    for name in ("uid_mapping.csv", "patid_mapping.csv"):
        map_a = read_mapping(out / "mappings" / name)
        map_b = read_mapping(other / "mappings" / name)
        assert set(map_a) == set(map_b)  # the same inputs were mapped...
        changed = {old for old in map_a if map_a[old] != old}
        assert changed and not {map_a[o] for o in changed} & {map_b[o] for o in changed}  # ...elsewhere
    by_a, by_b = outputs_by_old_sop(out), outputs_by_old_sop(other)
    for sop in by_a:
        assert by_a[sop].PatientID != by_b[sop].PatientID
        assert by_a[sop].AccessionNumber != by_b[sop].AccessionNumber
        assert by_a[sop].PixelData == by_b[sop].PixelData  # pixels untouched either way
    offsets = {pseudonyms.shift_offset(k, "PAT-A", -3650, -30) for k in (KEY.encode(), OTHER_KEY.encode())}
    assert len(offsets) == 2


def test_run_with_the_same_key_read_from_the_environment_matches(corpus, baseline, monkeypatch, tmp_path):
    """Keys resolved from DEIDC_KEY at run time give exactly the baseline output."""
    out, _ = baseline
    monkeypatch.setenv("DEIDC_KEY", KEY)
    # the same rule file: audit lines name it, so another path would change audit.jsonl
    plan = compile_or_raise(corpus["base"] / "rules.deid").plan
    fresh = tmp_path / "out"
    run_batch(plan, resolve_keys(plan), corpus["inputs"], fresh, workers=1)
    assert tree(fresh) == tree(out)
