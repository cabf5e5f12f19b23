"""run_batch when a worker dies or hangs: the run goes on, the file to blame is quarantined with
why, its batch-mates are written, and nothing waits forever (a dead multiprocessing.Pool worker
used to leave the parent waiting at 0 % CPU)."""
from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pydicom
import pytest

from deidc.compiler import compile_or_raise
from deidc.runtime import limits
from deidc.runtime.batch import worker
from deidc.runtime.batch.folder import RunOptions, run_batch
from deidc.runtime.batch.key_sources import resolve_keys

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
RULES = 'version 1\nkey = secret("DEIDC_KEY")\nSOPInstanceUID -> remap uid\nPatientName -> empty\n'

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def inputs(tmp_path) -> Path:
    """Eight CT files, distinct SOP instances; `poison.dcm` is the one the tests make misbehave."""
    root = tmp_path / "in"
    root.mkdir()
    for i in range(8):
        ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.99{i}"
        ds.save_as(root / ("poison.dcm" if i == 3 else f"{i}.dcm"))
    return root


def _run(tmp_path: Path, inputs: Path, workers: int, seconds: float, out: str = "out"):
    rules = tmp_path / "rules.deid"
    rules.write_text(RULES, encoding="utf-8")
    plan = compile_or_raise(rules).plan
    started = time.monotonic()
    summary = run_batch(plan, resolve_keys(plan, insecure_demo_key=True), inputs, tmp_path / out, workers,
                        options=RunOptions(run_limits=limits.with_overrides(file_seconds=seconds)))
    return summary, time.monotonic() - started


def _tree(out: Path) -> dict[Path, bytes]:
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*.dcm")}


def _misbehaving(what: str):
    real = worker.process_files

    def process_files(paths: list[str]):
        if any(p.endswith("poison.dcm") for p in paths):
            if what == "die":
                os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer does
            time.sleep(3600)  # hang
        return real(paths)

    return process_files


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_that_kills_its_worker_is_quarantined_and_the_rest_written(tmp_path, inputs, monkeypatch, workers):
    monkeypatch.setattr(worker, "process_files", _misbehaving("die"))
    summary, _ = _run(tmp_path, inputs, workers, 60)
    assert (summary.written, summary.quarantined) == (7, 1)
    assert summary.quarantine_reasons == {"killed or stalled its worker": 1}
    row = (tmp_path / "out" / "quarantine.csv").read_text().splitlines()[1]
    assert row.startswith(str(inputs / "poison.dcm")) and "killed by signal 9" in row
    assert len(list((tmp_path / "out").rglob("*.dcm"))) == 7


def test_a_file_that_hangs_is_stopped_at_the_time_limit(tmp_path, inputs, monkeypatch):
    monkeypatch.setattr(worker, "process_files", _misbehaving("hang"))
    summary, seconds = _run(tmp_path, inputs, 2, 2)
    assert seconds < 60  # the batch, then the file alone, each get the 2 s limit
    assert (summary.written, summary.quarantined) == (7, 1)
    assert summary.quarantine_reasons == {"exceeds a limit": 1}
    assert "longer than the time limit of 2 s per file (--file-timeout" in (tmp_path / "out" / "quarantine.csv").read_text()


def test_the_output_equals_a_run_where_nothing_failed(tmp_path, inputs, monkeypatch):
    """The batch-mates of a killer file, retried one by one, give the bytes they give anyway."""
    clean = tmp_path / "clean"
    shutil.copytree(inputs, clean)
    (clean / "poison.dcm").unlink()
    _run(tmp_path, clean, 2, 60, out="expected")
    monkeypatch.setattr(worker, "process_files", _misbehaving("die"))
    summary, _ = _run(tmp_path, inputs, 2, 60)
    assert summary.quarantine_reasons == {"killed or stalled its worker": 1}
    assert _tree(tmp_path / "out") == _tree(tmp_path / "expected")
    assert len(_tree(tmp_path / "out")) == 7
