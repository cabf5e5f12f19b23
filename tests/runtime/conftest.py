"""Shared fixtures for the runtime tests: real DICOM files, rule files compiled from text, keys.

Real data comes from pydicom's shipped test files (read from the package folder, never through
`get_testdata_file`, which may download) and from the `deid-data` package. Files are copied
into `tmp_path` before anything writes to them.
"""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pydicom
import pytest

from deidc.compiler import compile_or_raise
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.interpret.walk import DatasetDeidentifier

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
RUNTIME_KEY = "runtime-tests-secret-key-0123456789"

# The two lines every rule file in these tests starts with.
HEADER = 'version 1\nkey = secret("DEIDC_KEY")\n'


@pytest.fixture
def key(monkeypatch) -> bytes:
    """DEIDC_KEY set for in-process runs; the bytes every keyed action uses."""
    monkeypatch.setenv("DEIDC_KEY", RUNTIME_KEY)
    return RUNTIME_KEY.encode()


@pytest.fixture
def write_rules(tmp_path):
    """write_rules(body, name=...) -> path of a rule file = HEADER + dedented body."""

    def _write(body: str, name: str = "rules.deid", header: bool = True) -> Path:
        path = tmp_path / name
        path.write_text((HEADER if header else "") + textwrap.dedent(body).lstrip("\n"),
                        encoding="utf-8")
        return path

    return _write


@pytest.fixture
def compile_plan(write_rules):
    """compile_plan(body) -> Plan (errors raise)."""

    def _compile(body: str, name: str = "rules.deid", options: tuple[str, ...] = (),
                 header: bool = True):
        return compile_or_raise(write_rules(body, name, header), options).plan

    return _compile


@pytest.fixture
def deidentifier(compile_plan, key):
    """deidentifier(body) -> DatasetDeidentifier for those rules, keys from DEIDC_KEY."""

    def _make(body: str, **kwargs) -> DatasetDeidentifier:
        plan = compile_plan(body, **kwargs)
        return DatasetDeidentifier(plan, resolve_keys(plan))

    return _make


@pytest.fixture
def read_test_file(tmp_path):
    """read_test_file(name) -> a pydicom Dataset read from a private copy of a shipped file."""
    copies = tmp_path / "copies"

    def _read(name: str, force: bool = False):
        copies.mkdir(exist_ok=True)
        target = copies / name
        shutil.copyfile(TEST_FILES / name, target)
        return pydicom.dcmread(target, force=force)

    return _read


def rule_line(path: Path, snippet: str) -> int:
    """1-based number of the first line of `path` containing `snippet`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if snippet in line:
            return number
    raise AssertionError(f"{snippet!r} not in {path}")


@pytest.fixture
def line_of():
    return rule_line
