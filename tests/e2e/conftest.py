"""Shared fixtures for end-to-end tests: the `deidc` command line run as a subprocess."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import deid_data
import pydicom
import pytest

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
DEID_DATA = Path(deid_data.__file__).parent / "data"
E2E_KEY = "e2e-tests-secret-key-0123456789abcdef"


def cli_env(key: str | None = E2E_KEY) -> dict[str, str]:
    """The environment for a CLI run: DEIDC_KEY set (or removed), wide output, no colour."""
    env = {k: v for k, v in os.environ.items() if k != "DEIDC_KEY"}
    if key is not None:
        env["DEIDC_KEY"] = key
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    return env


@pytest.fixture
def deidc_env() -> dict[str, str]:
    """The environment of a CLI run, for tests that start `deidc` themselves (Popen)."""
    return cli_env()


@pytest.fixture
def deidc(tmp_path):
    """deidc("apply", rules, input, "-o", out, ..., key=...) -> CompletedProcess (text)."""

    def _run(*args, key: str | None = E2E_KEY, cwd: Path | None = None, timeout: float = 120):
        return subprocess.run([sys.executable, "-m", "deidc", *map(str, args)],
                              capture_output=True, text=True, env=cli_env(key),
                              cwd=cwd or tmp_path, timeout=timeout)

    return _run


@pytest.fixture
def small_tree(tmp_path) -> Path:
    """A folder of real files in sub-folders: pydicom's CT and MR, deid-data's CT brain and a
    cookie."""
    root = tmp_path / "in"
    for rel, source in {
        "ct/CT_small.dcm": TEST_FILES / "CT_small.dcm",
        "mr/MR_small.dcm": TEST_FILES / "MR_small.dcm",
        "brain/ctbrain1.dcm": DEID_DATA / "humans" / "ctbrain1.dcm",
        "cookies/image1.dcm": DEID_DATA / "dicom-cookies" / "image1.dcm",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / rel)
    return root
