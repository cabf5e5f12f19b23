"""`deidc apply` when things are not clean: exit codes, --overwrite, --resume, interruption, and
inputs that are not plain files. (The seeded fault suite is tests/faults/.)"""
from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest

from deidc.resources import RULESETS_DIR

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
BASIC = RULESETS_DIR / "ps3.15-basic.deid"


def _rows(out: Path) -> list[list[str]]:
    with (out / "quarantine.csv").open(newline="", encoding="utf-8", errors="surrogateescape") as fh:
        return list(csv.reader(fh))[1:]


def _tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_exit_codes_say_whether_every_input_was_written(deidc, small_tree, tmp_path):
    run = deidc("apply", BASIC, small_tree, "-o", tmp_path / "all", "--no-progress", "--workers", "1")
    assert run.returncode == 0, run.stderr
    (small_tree / "notes.txt").write_text("not an image")
    run = deidc("apply", BASIC, small_tree, "-o", tmp_path / "some", "--no-progress", "--workers", "1")
    assert run.returncode == 3, run.stderr
    assert "1 input(s) quarantined" in run.stdout
    [(file, reason)] = _rows(tmp_path / "some")
    assert Path(file) == small_tree / "notes.txt" and Path(file).exists()  # a real input path
    assert "not a DICOM file" in reason


def test_an_empty_input_is_an_error(deidc, tmp_path):
    (tmp_path / "empty").mkdir()
    run = deidc("apply", BASIC, tmp_path / "empty", "-o", tmp_path / "out", "--no-progress")
    assert run.returncode == 2
    assert "holds no files" in run.stderr


def test_overwrite_leaves_no_file_of_the_earlier_run(deidc, small_tree, tmp_path):
    out = tmp_path / "out"
    assert deidc("apply", BASIC, small_tree, "-o", out, "--no-progress", "--workers", "1").returncode == 0
    before = set(_tree(out))
    # another key: every pseudonymised path changes
    run = deidc("apply", BASIC, small_tree, "-o", out, "--no-progress", "--workers", "1", "--overwrite",
                key="another-key-0123456789abcdef0123456789")
    assert run.returncode == 0, run.stderr
    dicom = [p for p in out.rglob("*.dcm")]
    assert len(dicom) == 4
    assert not before & {str(p.relative_to(out)) for p in dicom}


def test_overwrite_refuses_a_folder_holding_other_files(deidc, small_tree, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    run = deidc("apply", BASIC, small_tree, "-o", out, "--no-progress", "--overwrite")
    assert run.returncode == 2
    assert "thesis.docx" in run.stderr and "not written by deidc" in run.stderr
    assert (out / "thesis.docx").read_bytes() == b"precious"


def test_inputs_that_are_not_regular_files_each_get_a_row(deidc, small_tree, tmp_path):
    outside = tmp_path / "outside.dcm"
    shutil.copyfile(TEST_FILES / "CT_small.dcm", outside)
    (small_tree / "dangling.dcm").symlink_to(tmp_path / "gone.dcm")
    (small_tree / "loop.dcm").symlink_to(small_tree / "loop.dcm")
    (small_tree / "escape.dcm").symlink_to(outside)
    os.mkfifo(small_tree / "pipe.dcm")
    (small_tree / os.fsdecode(b"caf\xe9.dcm")).write_bytes(b"not DICOM, and a name that is not UTF-8")
    out = tmp_path / "out"
    run = deidc("apply", BASIC, small_tree, "-o", out, "--no-progress", "--workers", "2", timeout=120)
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr
    rows = {Path(file).name: reason for file, reason in _rows(out)}
    assert set(rows) == {"dangling.dcm", "loop.dcm", "escape.dcm", "pipe.dcm", os.fsdecode(b"caf\xe9.dcm")}
    assert len(list(out.rglob("*.dcm"))) == 4  # the link out of the tree is not published
    assert "FIFO" in rows["pipe.dcm"]


def test_sigterm_stops_cleanly_and_resume_gives_the_uninterrupted_result(deidc, deidc_env, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for i in range(40):  # one file, many SOP instances: enough work to interrupt
        shutil.copyfile(TEST_FILES / "CT_small.dcm", source / f"{i:03}.dcm")
    subprocess.run([sys.executable, "-c", _RENUMBER, str(source)], check=True)
    whole = tmp_path / "whole"
    assert deidc("apply", BASIC, source, "-o", whole, "--no-progress", "--workers", "1").returncode == 0

    out = tmp_path / "out"
    command = [sys.executable, "-m", "deidc", "apply", str(BASIC), str(source), "-o", str(out), "--no-progress",
               "--workers", "1"]
    proc = subprocess.Popen(command, env=deidc_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(out.rglob("*.dcm")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err
    assert not (out / "audit.jsonl").exists()  # sidecars are written when the run ends
    resumed = subprocess.run(command + ["--resume"], env=deidc_env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert _tree(out) == _tree(whole)


_RENUMBER = """
import sys, pathlib, pydicom
for i, path in enumerate(sorted(pathlib.Path(sys.argv[1]).iterdir())):
    ds = pydicom.dcmread(path)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.7{i}"
    ds.save_as(path)
"""
