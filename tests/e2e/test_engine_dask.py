"""`deidc apply --engine dask` gives what the local engine gives: the same output tree byte for
byte, the same mappings, audit and quarantine list, with the shipped PS3.15 and TCIA rulesets.

The input: real pydicom test files, generated CT variants of three patients carrying PHI and
private elements, and one file that is not DICOM. Local runs use one worker; dask runs start a
LocalCluster of two workers, or reach one this module starts through --scheduler."""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pydicom
import pytest
from distributed import Client, LocalCluster
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from deidc.commands.common import compile_for_command
from deidc.resources import RULESETS_DIR
from deidc.runtime.batch.folder import RunOptions, run_batch
from deidc.runtime.batch.key_sources import resolve_keys

RULESETS = ("ps3.15-basic", "tcia")
# MR_small_RLE holds MR_small's SOP Instance: a duplicate both engines must quarantine alike
PYDICOM_FILES = ("CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "rtplan.dcm", "rtdose.dcm",
                 "JPEG2000.dcm", "waveform_ecg.dcm")
PATIENTS = {"MRN-1001": "HARTLEY^JOAN", "MRN-1002": "OKAFOR^CHIDI^E", "MRN-1003": "LINDQVIST^ASA"}
NOT_DICOM = "notes/readme.txt"
OUTPUT_FILES = ("mappings/uid_mapping.csv", "mappings/patid_mapping.csv", "quarantine.csv", "audit.jsonl")


def _variant(patient_id: str, name: str, n: int) -> pydicom.Dataset:
    """CT_small as file n of a patient: PHI in the header and free text, and private elements."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    seed = f"{patient_id}/{n}"
    ds.PatientID, ds.PatientName, ds.PatientBirthDate = patient_id, name, "19580723"
    ds.InstitutionName, ds.AccessionNumber = "St Elsewhere General", f"ACC{patient_id[-4:]}{n}"
    ds.StudyDescription = f"CT chest {name.replace('^', ' ')} MRN {patient_id}"
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[patient_id, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[patient_id, "series"])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[seed])
    block = ds.private_block(0x0033, "ACME_NOTES", create=True)
    block.add_new(0x01, "LO", f"seen by Dr Pereira for {name}")
    block.add_new(0x02, "UI", generate_uid(entropy_srcs=[seed, "private"]))
    return ds


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dask") / "in"
    (root / "pydicom").mkdir(parents=True)
    for name in PYDICOM_FILES:
        shutil.copyfile(get_testdata_file(name), root / "pydicom" / name)
    for patient_id, name in PATIENTS.items():
        (root / patient_id).mkdir()
        for n in range(2):
            _variant(patient_id, name, n).save_as(root / patient_id / f"ct{n}.dcm", enforce_file_format=True)
    (root / NOT_DICOM).parent.mkdir()
    (root / NOT_DICOM).write_text("referral letter, not an image\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster for the tests that reach a running scheduler (startup takes seconds)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as running:
        yield running


@pytest.fixture(scope="module")
def apply(source, tmp_path_factory):
    """apply(ruleset, *engine_args) -> (output folder, stdout); each distinct run happens once."""
    done: dict[tuple, tuple[Path, str]] = {}

    def _apply(ruleset: str, *engine_args: str) -> tuple[Path, str]:
        key = (ruleset, *engine_args)
        if key not in done:
            out = tmp_path_factory.mktemp("out") / "out"
            env = {k: v for k, v in os.environ.items() if k != "DEIDC_KEY"} | {"COLUMNS": "200", "NO_COLOR": "1"}
            run = subprocess.run([sys.executable, "-m", "deidc", "apply", str(RULESETS_DIR / f"{ruleset}.deid"),
                                  str(source), "-o", str(out), "--insecure-demo-key", "--no-progress",
                                  *engine_args], capture_output=True, text=True, env=env, timeout=120)
            quarantined = len((out / "quarantine.csv").read_text().splitlines()) > 1
            assert run.returncode == (3 if quarantined else 0), run.stdout + run.stderr  # 3: some quarantined
            done[key] = (out, run.stdout)
        return done[key]

    return _apply


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def counts(stdout: str) -> list[str]:
    """The summary rows that do not depend on timing or on the output folder's name."""
    return [line for line in stdout.splitlines()
            if "│" in line and not re.search(r"seconds|files/s|MB/s", line)]


def quarantine(out: Path, source: Path) -> dict[str, str]:
    """quarantine.csv rows by input path relative to `source` (the rows name the input paths)."""
    with (out / "quarantine.csv").open(newline="", encoding="utf-8") as fh:
        return {os.path.relpath(file, source): reason for file, reason in list(csv.reader(fh))[1:]}


@pytest.mark.parametrize("ruleset", RULESETS)
def test_dask_output_is_byte_identical_to_local(apply, ruleset):
    local, local_stdout = apply(ruleset, "--workers", "1")
    dask, dask_stdout = apply(ruleset, "--engine", "dask", "--workers", "2")
    expected, got = tree(local), tree(dask)
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []
    for name in OUTPUT_FILES:
        assert (dask / name).read_bytes() == (local / name).read_bytes(), name
    assert counts(dask_stdout) == counts(local_stdout)
    written = [name for name in got if name.endswith(".dcm")]
    assert len(written) == len(PYDICOM_FILES) - 1 + 2 * len(PATIENTS)  # one duplicate SOP instance


def test_a_file_that_is_not_dicom_is_quarantined_on_dask(apply, source):
    out, stdout = apply("tcia", "--engine", "dask", "--workers", "2")
    rows = quarantine(out, source)
    assert rows[NOT_DICOM].startswith("not a DICOM file")
    assert "pydicom/MR_small_RLE.dcm" in rows  # the duplicate SOP instance
    assert re.search(r"not DICOM or unreadable\s*│\s*1\b", stdout), stdout


def test_scheduler_address_reaches_a_running_cluster(apply, cluster):
    local, _ = apply("ps3.15-basic", "--workers", "1")
    remote, stdout = apply("ps3.15-basic", "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert tree(remote) == tree(local)
    assert re.search(r"input files\s*│\s*%d\b" % (len(PYDICOM_FILES) + 2 * len(PATIENTS) + 1), stdout), stdout


def _break_one_file() -> None:
    """Runs on each worker: process_files raises for a chunk holding one file, outside its own
    error handling (as a crash would)."""
    from deidc.runtime.batch import worker

    real = worker.__dict__.setdefault("_real_process_files", worker.process_files)

    def broken(paths: list[str]):
        if any(path.endswith("MRN-1002/ct1.dcm") for path in paths):
            raise RuntimeError("simulated worker failure")
        return real(paths)

    worker.process_files = broken


def _repair() -> None:
    from deidc.runtime.batch import worker

    worker.process_files = worker.__dict__.pop("_real_process_files", worker.process_files)


def test_a_failing_task_quarantines_its_file_and_the_batch_goes_on(source, cluster, tmp_path):
    plan = compile_for_command(str(RULESETS_DIR / "tcia.deid"), []).plan
    keys = resolve_keys(plan, insecure_demo_key=True)
    # this test module is not importable on the workers: send its functions by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with Client(cluster) as client:
        client.run(_break_one_file)
        try:
            summary = run_batch(plan, keys, source, tmp_path / "out", 2,
                                options=RunOptions(engine="dask", scheduler=cluster.scheduler_address))
        finally:
            client.run(_repair)
            cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    rows = quarantine(tmp_path / "out", source)
    assert rows["MRN-1002/ct1.dcm"].startswith("failed on a cluster worker (RuntimeError in ")  # not its text
    assert summary.quarantine_reasons["failed on a cluster worker"] == 1
    assert summary.written == len(PYDICOM_FILES) - 1 + 2 * len(PATIENTS) - 1
    assert not (tmp_path / "out" / ".deidc-run").exists()


def _cli(*args: str, python: list[str] | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "DEIDC_KEY"} | {"COLUMNS": "200", "NO_COLOR": "1"} | env
    return subprocess.run([sys.executable, *(python or ["-m", "deidc"]), *args], capture_output=True, text=True,
                          env=environ, timeout=120)


def test_an_unreachable_scheduler_is_a_clear_error(source, tmp_path):
    run = _cli("apply", str(RULESETS_DIR / "ps3.15-basic.deid"), str(source), "-o", str(tmp_path / "out"),
               "--insecure-demo-key", "--no-progress", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9",
               DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="1s")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in run.stderr
    assert "Traceback" not in run.stderr


def test_without_distributed_the_dask_engine_asks_to_install_it(source, tmp_path):
    # sys.modules[name] = None makes `import name` raise ImportError, as if it were not installed
    hide = "import sys; sys.modules['distributed'] = None; from deidc.cli import main; sys.exit(main())"
    run = _cli("apply", str(RULESETS_DIR / "ps3.15-basic.deid"), str(source), "-o", str(tmp_path / "out"),
               "--insecure-demo-key", "--engine", "dask", python=["-c", hide])
    assert run.returncode == 2, run.stdout + run.stderr
    assert "pip install 'distributed>=2024.1'" in run.stderr
    assert not (tmp_path / "out").exists()
