"""Killed, interrupted, resumed: `deidc apply --resume` must give the uninterrupted result.

One corpus of valid files (tests/faultkit `valid_corpus`: copies of the real sources as
distinct instances, a few broken files so the run quarantines too) is applied once without
interruption (the reference). Then each test starts the same run in its own session, waits for
the journal (OUT/.deidc-run/journal.jsonl) to say how many inputs are settled, and:
- kills the whole process group with SIGKILL (at the start, after a few files, in the middle,
  near the end; and twice in a row), then resumes;
- kills one pool worker with SIGKILL (what the OOM killer does): the run must finish on its own;
- sends SIGTERM to the main process or SIGINT to the group (Ctrl-C): exit 130, no traceback,
  stderr says how to resume, no process left behind; then resumes.
After each: every file of the output tree (DICOM files, mappings/*.csv, quarantine.csv,
audit.jsonl) is byte-identical to the reference (sha256), and no run state or temporary file is
left. Files a killed run had already put in place must be whole (identical to the reference).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import faultkit as fc
import pytest

FILES, SEED = 160, 3
BASIC = fc.RULESETS / "ps3.15-basic.deid"
TCIA = fc.RULESETS / "tcia.deid"
RUN_TIMEOUT = 120


@dataclass
class Reference:
    corpus: Path
    rules: Path
    run: fc.ApplyRun
    digests: dict[str, str]


_REFERENCES: dict[str, Reference] = {}


def _corpus(factory) -> Path:
    folder = factory.getbasetemp() / "kill-corpus"
    if not folder.exists():
        fc.valid_corpus(folder, FILES, SEED)
    return folder


def _reference(rules: Path, factory) -> Reference:
    if rules.name not in _REFERENCES:
        corpus = _corpus(factory)
        out = factory.mktemp(f"reference-{rules.stem}") / "out"
        run = fc.run_apply(rules, corpus, out, timeout=RUN_TIMEOUT)
        _REFERENCES[rules.name] = Reference(corpus, rules, run, fc.tree_digests(out))
    return _REFERENCES[rules.name]


@pytest.fixture(scope="module")
def basic(tmp_path_factory, deidc_entry) -> Reference:
    return _reference(BASIC, tmp_path_factory)


# ---- driving a run --------------------------------------------------------------------------------

def start(reference: Reference, out: Path, logs: Path, *extra: str) -> subprocess.Popen:
    logs.mkdir(parents=True, exist_ok=True)
    command = fc.apply_command(reference.rules, reference.corpus, out, *extra)
    with (logs / "stdout").open("wb") as stdout, (logs / "stderr").open("wb") as stderr:
        return subprocess.Popen(command, stdout=stdout, stderr=stderr, env=fc.cli_env(), cwd=fc.REPO,
                                start_new_session=True)


def wait_for(process: subprocess.Popen, out: Path, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while fc.settled(out) < at_least:
        if process.poll() is not None:
            pytest.fail(f"the run ended (exit {process.returncode}) before {at_least} inputs were settled; "
                        f"the journal says {fc.settled(out)} (is {fc.JOURNAL} written as the run goes?)")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"{at_least} inputs not settled after {timeout} s (journal: {fc.settled(out)})")
        time.sleep(0.005)


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert fc.wait_gone(process.pid), "processes of the killed run are still alive"


def check_partial_output(out: Path, reference: Reference) -> None:
    """After an interruption: what is in place is whole, and temporary files sit only in the run folder."""
    for relative, digest in fc.tree_digests(out).items():
        if relative.startswith(".deidc-run/") or relative in fc.SIDE_FILES:
            continue
        assert relative.endswith(".dcm"), f"{relative}: a temporary or stray file in the output tree"
        assert reference.digests.get(relative) == digest, f"{relative}: in place after the kill, but not whole"


def resume_and_compare(reference: Reference, out: Path) -> None:
    run = fc.run_apply(reference.rules, reference.corpus, out, "--resume", timeout=RUN_TIMEOUT)
    assert not run.timed_out, f"--resume did not finish in {RUN_TIMEOUT} s"
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.returncode == reference.run.returncode, f"--resume: exit {run.returncode}: {run.stderr[-1500:]}"
    difference = fc.tree_difference(reference.digests, fc.tree_digests(out))
    assert not difference, f"after --resume the output differs from the uninterrupted run: {difference}"


# ---- the reference ----------------------------------------------------------------------------------

def test_the_uninterrupted_run_releases_and_quarantines(basic):
    assert basic.run.returncode == 3, basic.run.stderr[-1500:]
    released = [k for k in basic.digests if k.endswith(".dcm")]
    assert len(released) == FILES - 4
    assert fc.SIDE_FILES <= set(basic.digests)
    assert not any(k.startswith(".") for k in basic.digests)


# ---- kill -9 of the whole group ------------------------------------------------------------------------

@pytest.mark.parametrize("point", [pytest.param(0, marks=pytest.mark.slow), 3, FILES // 2, FILES * 85 // 100],
                         ids=["start", "few", "middle", "near-end"])
def test_kill_9_of_the_whole_group_then_resume(basic, tmp_path, point):
    out = tmp_path / "out"
    process = start(basic, out, tmp_path / "logs")
    wait_for(process, out, point)
    kill_group(process)
    check_partial_output(out, basic)
    resume_and_compare(basic, out)


@pytest.mark.slow
def test_a_resumed_run_killed_again_resumes(basic, tmp_path):
    out = tmp_path / "out"
    process = start(basic, out, tmp_path / "logs1")
    wait_for(process, out, FILES // 4)
    kill_group(process)
    process = start(basic, out, tmp_path / "logs2", "--resume")
    wait_for(process, out, FILES * 2 // 3)
    kill_group(process)
    check_partial_output(out, basic)
    resume_and_compare(basic, out)


@pytest.mark.slow
def test_kill_9_with_collected_phi_then_resume(tmp_path_factory, tmp_path, deidc_entry):
    """tcia.deid cleans each file with the PHI collected from all files of its patient: a resumed
    run must clean the rest exactly as the uninterrupted run did."""
    reference = _reference(TCIA, tmp_path_factory)
    assert reference.run.returncode == 3, reference.run.stderr[-1500:]
    out = tmp_path / "out"
    process = start(reference, out, tmp_path / "logs")
    wait_for(process, out, FILES // 2)
    kill_group(process)
    check_partial_output(out, reference)
    resume_and_compare(reference, out)


# ---- one worker killed ---------------------------------------------------------------------------------

def test_a_killed_worker_does_not_stop_or_change_the_run(basic, tmp_path):
    out = tmp_path / "out"
    process = start(basic, out, tmp_path / "logs")
    wait_for(process, out, FILES // 4)
    workers = fc.pool_workers(process.pid)
    if not workers:
        kill_group(process)
        pytest.fail("no worker process found below the run (/proc/<pid>/task/*/children)")
    os.kill(workers[0], signal.SIGKILL)
    try:
        code = process.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        kill_group(process)
        pytest.fail(f"the run hangs after one worker was killed (journal: {fc.settled(out)} of {FILES} settled)")
    stderr = (tmp_path / "logs" / "stderr").read_text(errors="replace")
    assert "Traceback" not in stderr, stderr[-2000:]
    assert code == basic.run.returncode, stderr[-1500:]
    assert fc.wait_gone(process.pid), "processes of the run are left behind"
    difference = fc.tree_difference(basic.digests, fc.tree_digests(out))
    assert not difference, f"after a worker was killed the output differs from the uninterrupted run: {difference}"


# ---- SIGTERM and Ctrl-C ---------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["SIGTERM to the main process", "SIGINT to the group"])
def test_sigterm_and_sigint_stop_cleanly_and_resume(basic, tmp_path, how):
    out = tmp_path / "out"
    process = start(basic, out, tmp_path / "logs")
    wait_for(process, out, FILES * 2 // 5)
    if how.startswith("SIGTERM"):
        os.kill(process.pid, signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        kill_group(process)
        pytest.fail(f"{how}: the run did not stop within 60 s")
    stderr = (tmp_path / "logs" / "stderr").read_text(errors="replace")
    assert "Traceback" not in stderr, stderr[-2000:]
    assert code == 130, f"{how}: exit {code}: {stderr[-1500:]}"
    assert "--resume" in stderr, f"{how}: stderr does not say how to resume: {stderr[-1500:]}"
    assert fc.wait_gone(process.pid), f"{how}: processes of the run are left behind"
    check_partial_output(out, basic)
    resume_and_compare(basic, out)
