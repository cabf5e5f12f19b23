"""`deidc apply --codec fast|reference` end to end: the same input folder through both engines,
with one and two workers, gives the same output tree byte for byte — DICOM files (same relative
paths), mappings/*.csv, audit.jsonl and quarantine.csv — and the fast run's summary counts the
files it handed to the reference engine, by reason.

The folder mixes encodings the fast engine reads (explicit and implicit VR, UTF-8 and ISO 2022
character sets, nested and private sequences, a file big enough for its pixel data to be copied
file to file, two files of one patient) with files it routes (big endian, deflate, no Part 10
header) and inputs nobody releases (a text file, a truncated file).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import conformance_files as helpers  # noqa: E402 — tests/conftest.py puts tests/ on the path
import pytest

TEST_FILES, CHARSET_FILES, DEID_DATA = helpers.TEST_FILES, helpers.CHARSET_FILES, helpers.DEID_DATA

INPUTS = {
    "ct/CT_small.dcm": TEST_FILES / "CT_small.dcm",
    "rt/rtdose_1frame.dcm": TEST_FILES / "rtdose_1frame.dcm",              # implicit VR
    "mr/MR_small_bigendian.dcm": TEST_FILES / "MR_small_bigendian.dcm",    # routed: big endian
    "ot/image_dfl.dcm": TEST_FILES / "image_dfl.dcm",                      # routed: deflate
    "rt/ExplVR_LitEndNoMeta.dcm": TEST_FILES / "ExplVR_LitEndNoMeta.dcm",  # routed: no Part 10 header
    "sr/test-SR.dcm": TEST_FILES / "test-SR.dcm",
    "charset/chrX1.dcm": CHARSET_FILES / "chrX1.dcm",
    "charset/chrH31.dcm": CHARSET_FILES / "chrH31.dcm",
    "cookies/image1.dcm": DEID_DATA / "dicom-cookies" / "image1.dcm",
    "cookies/image2.dcm": DEID_DATA / "dicom-cookies" / "image2.dcm",
    "broken/MR_truncated.dcm": TEST_FILES / "MR_truncated.dcm",            # quarantined (unreadable)
}
GENERATED = {
    "generated/nested-undefined-explicit.dcm": "generated/nested-undefined-explicit.dcm",
    "generated/private-sq-implicit.dcm": "generated/private-sq-implicit.dcm",
    "generated/large-native-explicit.dcm": "generated/large-native-explicit.dcm",
}
NOT_DICOM = {"notes/readme.txt": b"not a DICOM file, just notes\n"}
# ps3.15-basic keeping private elements, plus cleaning of descriptions against PHI collected from
# every file of the patient (pass 1, which reads headers with the chosen engine).
RULES = """\
version 1
use "ps3.15-basic" with retain-safe-private
collect PatientName, PatientID, InstitutionName, ReferringPhysicianName, StudyDate as phi
StudyDescription, SeriesDescription, ImageComments, ProtocolName -> clean phi fuzzy 90, regex person, dates shift date_shift
"""
ROUTED = {"explicit VR big endian": 1, "deflated explicit VR little endian": 1, "no Part 10 preamble": 1}
RUNS = [("fast", 1), ("fast", 2), ("reference", 1), ("reference", 2)]
ROUTED_ROW = "reference engine (files the fast engine could not copy)"


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DEIDC_KEY"}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The input folder through `deidc apply` once per (codec, workers): {run: (process, out)}."""
    root = tmp_path_factory.mktemp("codec")
    inputs = root / "in"
    for rel, source in INPUTS.items():
        (inputs / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, inputs / rel)
    generated = helpers.generated_files()
    for rel, name in GENERATED.items():
        (inputs / rel).parent.mkdir(parents=True, exist_ok=True)
        (inputs / rel).write_bytes(generated[name])
    for rel, data in NOT_DICOM.items():
        (inputs / rel).parent.mkdir(parents=True, exist_ok=True)
        (inputs / rel).write_bytes(data)
    rules = root / "site.deid"
    rules.write_text(RULES, encoding="utf-8")
    results = {}
    for codec, workers in RUNS:
        out = root / f"out-{codec}-{workers}"
        process = subprocess.run(
            [sys.executable, "-m", "deidc", "apply", str(rules), str(inputs), "-o", str(out), "--workers",
             str(workers), "--insecure-demo-key", "--no-progress", "--codec", codec],
            capture_output=True, text=True, env=cli_env(), cwd=root, timeout=300)
        quarantined = len((out / "quarantine.csv").read_text().splitlines()) > 1
        assert process.returncode == (3 if quarantined else 0), process.stdout + process.stderr
        results[codec, workers] = (process, out)
    return results


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def row(stdout: str, label: str) -> int | None:
    match = re.search(rf"{re.escape(label)}\s*│\s*(\d+)", stdout)
    return int(match.group(1)) if match else None


@pytest.mark.parametrize("run", RUNS[1:], ids=[f"{c}-{w}" for c, w in RUNS[1:]])
def test_output_trees_are_byte_identical(runs, run):
    expected = tree(runs["fast", 1][1])
    got = tree(runs[run][1])
    assert sorted(got) == sorted(expected)
    different = [name for name in expected if got[name] != expected[name]]
    assert different == []


def test_the_tree_holds_what_was_released_and_why_the_rest_was_not(runs):
    files = tree(runs["fast", 1][1])
    dicom = [name for name in files if name.endswith(".dcm")]
    released = len(INPUTS) + len(GENERATED) - 1  # all but the truncated file
    assert len(dicom) == released
    for name in ("audit.jsonl", "quarantine.csv", "mappings/uid_mapping.csv", "mappings/patid_mapping.csv"):
        assert name in files
    quarantine = files["quarantine.csv"].decode("utf-8").splitlines()
    assert quarantine[0] == "file,reason"
    inputs = runs["fast", 1][1].parent / "in"  # the rows name the input paths
    assert sorted(line.split(",", 1)[0] for line in quarantine[1:]) == [
        str(inputs / "broken/MR_truncated.dcm"), str(inputs / "notes/readme.txt")]
    assert all(files[name][:132] == b"\x00" * 128 + b"DICM" for name in dicom)
    audit = files["audit.jsonl"].decode("utf-8")
    assert '["clean",' in audit and '["remap-uid",' in audit


def test_the_fast_summary_counts_the_routed_files(runs):
    for workers in (1, 2):
        stdout = runs["fast", workers][0].stdout
        assert row(stdout, ROUTED_ROW) == sum(ROUTED.values()), stdout
        for reason, count in ROUTED.items():
            assert row(stdout, reason) == count, stdout
        assert row(stdout, "written") == len(INPUTS) + len(GENERATED) - 1
        assert row(stdout, "quarantined") == 2
    for workers in (1, 2):
        assert ROUTED_ROW not in runs["reference", workers][0].stdout
