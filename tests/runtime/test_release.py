"""The parent's side of a run: duplicates decided by input order whatever finishes first, and the
journal that lets an interrupted run resume (cut-off lines, changed outputs, other runs)."""
from __future__ import annotations

from pathlib import Path

import pytest

from deidc.runtime.batch.journal import RUN_DIR, Journal, JournalMismatch
from deidc.runtime.batch.release import Input, Release
from deidc.runtime.batch.worker import FileResult


def _entries(tmp_path: Path, n: int) -> list[Input]:
    return [Input(f"f{i}.dcm", tmp_path / "in" / f"f{i}.dcm") for i in range(n)]


def _staged(tmp_path: Path, name: str, content: bytes) -> str:
    staging = tmp_path / "out" / RUN_DIR / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    (staging / name).write_bytes(content)
    return str(staging / name)


def _release(tmp_path: Path, n: int) -> Release:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    release = Release(out, _entries(tmp_path, n), "fast")
    release.journal = Journal.start(out, "fingerprint", n)
    return release


def _result(tmp_path: Path, i: int, output: str, content: bytes) -> FileResult:
    return FileResult(f"f{i}.dcm", len(content), output=output, staged=_staged(tmp_path, f"{i}.partial", content),
                      uid_map={f"old{i}": f"new{i}"})


def test_the_first_input_wins_a_duplicate_that_finishes_later(tmp_path):
    release = _release(tmp_path, 2)
    release.settle(1, _result(tmp_path, 1, "P/S/R/1.2.3.dcm", b"second"), None)
    release.settle(0, _result(tmp_path, 0, "P/S/R/1.2.3.dcm", b"first"), None)
    out = tmp_path / "out"
    assert (out / "P/S/R/1.2.3.dcm").read_bytes() == b"first"
    settled = release.journal.settled
    assert settled[0]["quarantine"] is None and settled[0]["output"] == "P/S/R/1.2.3.dcm"
    assert settled[1]["quarantine_kind"] == "duplicate SOP instance"
    assert str(tmp_path / "in" / "f0.dcm") in settled[1]["quarantine"]
    summary = release.summary()
    assert (summary.written, summary.quarantined) == (1, 1)
    assert summary.uids_mapped == 1  # the demoted file's mappings are not published


def test_a_duplicate_under_another_folder_is_removed_when_an_earlier_input_wins(tmp_path):
    release = _release(tmp_path, 2)
    release.settle(1, _result(tmp_path, 1, "P2/S/R/1.2.3.dcm", b"second"), None)
    release.settle(0, _result(tmp_path, 0, "P1/S/R/1.2.3.dcm", b"first"), None)
    out = tmp_path / "out"
    assert (out / "P1/S/R/1.2.3.dcm").read_bytes() == b"first"
    assert not (out / "P2/S/R/1.2.3.dcm").exists()


def test_a_later_duplicate_is_quarantined_and_its_staged_file_removed(tmp_path):
    release = _release(tmp_path, 2)
    first, second = _result(tmp_path, 0, "P/S/R/9.dcm", b"first"), _result(tmp_path, 1, "P/S/R/9.dcm", b"second")
    release.settle(0, first, None)
    release.settle(1, second, None)
    assert not Path(second.staged).exists()
    assert (tmp_path / "out/P/S/R/9.dcm").read_bytes() == b"first"
    assert release.journal.settled[1]["quarantine_kind"] == "duplicate SOP instance"


def test_resume_replays_the_journal_and_drops_what_is_not_on_disk(tmp_path):
    release = _release(tmp_path, 3)
    for i in range(3):
        release.settle(i, _result(tmp_path, i, f"P/S/R/{i}.dcm", b"x" * (i + 1)), None)
    release.journal.close()
    out = tmp_path / "out"
    (out / "P/S/R/1.dcm").write_bytes(b"changed after the run")  # not what the journal recorded
    journal_path = out / RUN_DIR / "journal.jsonl"
    with journal_path.open("ab") as fh:
        fh.write(b'{"i": 2, "input": "f2.dcm", "trunc')  # the line a kill cut off
    journal = Journal.resume(out, "fingerprint", 3)
    assert sorted(journal.settled) == [0, 2]
    assert journal_path.read_bytes().endswith(b"}\n")  # the cut-off line is gone
    assert list(journal.audits([0, 2])) == ["", ""]
    journal.close()


def test_resume_refuses_another_run(tmp_path):
    release = _release(tmp_path, 1)
    release.journal.close()
    with pytest.raises(JournalMismatch, match="other rules"):
        Journal.resume(tmp_path / "out", "another fingerprint", 1)
    with pytest.raises(JournalMismatch, match="no interrupted"):
        Journal.resume(tmp_path / "elsewhere", "fingerprint", 1)


def test_the_journal_is_private(tmp_path):
    release = _release(tmp_path, 1)
    release.journal.close()
    assert (tmp_path / "out" / RUN_DIR / "journal.jsonl").stat().st_mode & 0o077 == 0


def _issued(tmp_path: Path, i: int, identity: str, value: str) -> FileResult:
    result = _result(tmp_path, i, f"{value}/S/R/{i}.dcm", b"file %d" % i)
    result.issued = [("pseudonym \"P{hmac:1}\" using key", identity, value, "rules.deid:3")]
    return result


def test_a_collision_is_decided_by_input_order_whatever_finishes_first(tmp_path):
    release = _release(tmp_path, 3)
    release.settle(2, _issued(tmp_path, 2, "patient-b", "P7"), None)  # a later input, finished first
    release.settle(1, _issued(tmp_path, 1, "patient-a", "P7"), None)
    release.settle(0, _issued(tmp_path, 0, "patient-b", "P7"), None)
    release.settle_collisions()
    release.journal.close()
    summary = release.finish(resumed=False)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.rglob("*.dcm")) == ["0.dcm", "2.dcm"]  # patient-b came first
    assert (summary.written, summary.quarantined) == (2, 1)
    rows = (out / "quarantine.csv").read_text()
    assert "pseudonym collision" in rows and "rules.deid:3" in rows and str(tmp_path / "in" / "f0.dcm") in rows
    assert "patient-a" not in rows and "P7" not in rows


def test_a_resumed_run_checks_what_the_interrupted_attempt_released(tmp_path):
    release = _release(tmp_path, 2)
    release.settle(0, _issued(tmp_path, 0, "patient-a", "P7"), None)
    release.journal.close()  # killed here
    resumed = Release(tmp_path / "out", _entries(tmp_path, 2), "fast")
    resumed.journal = Journal.resume(tmp_path / "out", "fingerprint", 2)
    resumed.rebuild_claims()
    resumed.settle(1, _issued(tmp_path, 1, "patient-b", "P7"), None)
    resumed.settle_collisions()
    resumed.journal.close()
    summary = resumed.finish(resumed=True)
    assert (summary.written, summary.quarantined) == (1, 1)
    assert [p.name for p in (tmp_path / "out").rglob("*.dcm")] == ["0.dcm"]
