"""`deidc diff A B --on DIR`: both rule files applied to real files, differing values listed."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def _diff(tmp_path: Path, a: str, b: str, *extra: str) -> subprocess.CompletedProcess:
    (tmp_path / "a.deid").write_text(a)
    (tmp_path / "b.deid").write_text(b)
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(TEST_FILES / "CT_small.dcm", data / "ct.dcm")
    return subprocess.run([sys.executable, "-m", "deidc", "diff", str(tmp_path / "a.deid"), str(tmp_path / "b.deid"),
                           "--on", str(data), "--insecure-demo-key", *extra],
                          capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "", "DEIDC_CACHE": os.environ["DEIDC_CACHE"]}, timeout=120)


def test_values_that_differ_are_listed_per_file(tmp_path):
    run = _diff(tmp_path, "version 1\nPatientName -> empty\n", 'version 1\nPatientName -> replace "ANON"\n',
                "--exit-code")
    assert run.returncode == 1, run.stderr
    assert "values on 1 file(s) (1 differing)" in run.stdout
    assert "<(0010,0010)>: <> → <ANON>" in run.stdout


def test_same_effect_shows_no_value_difference(tmp_path):
    run = _diff(tmp_path, "version 1\nPatientName -> empty\nPatientID -> empty\n",
                "version 1\nPatientID -> empty\nPatientName -> empty\n", "--exit-code")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no differences" in run.stdout and "(0 differing)" in run.stdout
