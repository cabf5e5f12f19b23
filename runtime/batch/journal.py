"""The run journal: what a run has released and quarantined so far, one line per input as it is
settled, so a run that is killed at any moment still says what it released and can be resumed.

In: the output folder, the run's fingerprint (rules, options, key, input, engine, limits — never
the key itself), and a record per settled input. Out: OUT/.deidc-run/journal.jsonl and, raw,
the audit lines each record points into, OUT/.deidc-run/audit.partial (both 0600, like every
sidecar: they hold original identifiers); on resume, the records of the interrupted run whose
outputs are still on disk exactly as they were released.

A record is appended after its output file is renamed into place; the last record of an input
wins (a duplicate SOP instance can demote an earlier winner). A line cut off by a kill is
ignored. A record whose output is missing or changed is dropped, so that input is done again;
outputs are a pure function of the input and the key, so redoing one gives the same bytes.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

RUN_DIR = ".deidc-run"
JOURNAL = "journal.jsonl"
AUDIT = "audit.partial"  # the audit lines of settled inputs, raw, in settling order
FORMAT = 1
SYNC_SECONDS = 1.0  # the journal is fsynced at most this often (and when the run ends)


class JournalMismatch(Exception):
    """The output folder holds an interrupted run of something else (other rules, key or input)."""


@dataclass
class Journal:
    """Append-only; `settled[i]` is the latest record of input `i`. Its audit lines are kept raw in
    a file beside it (`audit_at` in the record: offset and length), not escaped into JSON."""
    path: Path
    settled: dict[int, dict] = field(default_factory=dict)
    _fh: BinaryIO | None = None
    _audit: BinaryIO | None = None
    _synced: float = 0.0

    @classmethod
    def start(cls, out: Path, fingerprint: str, inputs: int) -> Journal:
        run = out / RUN_DIR
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir(mode=0o700, parents=True)
        journal = cls(run / JOURNAL)
        fd = os.open(journal.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        journal._fh = os.fdopen(fd, "ab")
        journal._open_audit()
        journal._write({"deidc_journal": FORMAT, "fingerprint": fingerprint, "inputs": inputs})
        journal.sync()
        return journal

    def _open_audit(self) -> None:
        fd = os.open(self.path.parent / AUDIT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._audit = os.fdopen(fd, "ab")

    @classmethod
    def resume(cls, out: Path, fingerprint: str, inputs: int) -> Journal:
        """The interrupted run's journal, its records checked against the files on disk."""
        journal = cls(out / RUN_DIR / JOURNAL)
        try:
            data = journal.path.read_bytes()
        except FileNotFoundError:
            raise JournalMismatch(f"{out} holds no interrupted deidc run to resume (no {RUN_DIR}/{JOURNAL})") from None
        lines = data.split(b"\n")
        try:
            head = json.loads(lines[0])
        except ValueError:
            raise JournalMismatch(f"the journal of the run in {out} is unreadable; start over with --overwrite") from None
        if head.get("fingerprint") != fingerprint or head.get("inputs") != inputs:
            raise JournalMismatch(
                f"{out} holds an interrupted run of other rules, options, key, input or limits; "
                "resume it with the same command line, or start over with --overwrite")
        offset = len(lines[0]) + 1
        for line in lines[1:-1]:  # the last piece is empty, or the line a kill cut off
            offset += len(line) + 1
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a damaged line: its input is done again
            if not isinstance(record, dict) or not isinstance(record.get("i"), int):
                continue
            journal.settled[record["i"]] = record
        journal._drop_unverified(out)
        with journal.path.open("r+b") as fh:
            fh.truncate(offset)
        journal._fh = open(journal.path, "ab")  # noqa: SIM115 — closed by close()
        journal._open_audit()
        return journal

    def _drop_unverified(self, out: Path) -> None:
        """Forget records whose output is not on disk as released, or whose audit lines a kill cut off."""
        try:
            audit_size = (self.path.parent / AUDIT).stat().st_size
        except FileNotFoundError:
            audit_size = 0
        for i, record in list(self.settled.items()):
            offset, length = record.get("audit_at") or (0, 0)
            if offset + length > audit_size:
                del self.settled[i]
            elif record.get("output") and not record.get("quarantine"):
                if _identity(out / record["output"]) != record.get("file_id"):
                    del self.settled[i]

    def record(self, i: int, record: dict) -> None:
        """Append input `i`'s record; its `audit` text goes to the audit file, after which the
        record is written (so a record never names audit lines that are not there)."""
        audit = record.pop("audit", "").encode("utf-8", "surrogateescape")
        _, audit_fh = self._files()
        record = {"i": i, **record, "audit_at": [audit_fh.tell(), len(audit)]}
        if audit:
            audit_fh.write(audit)
            audit_fh.flush()
        self._write(record)
        self.settled[i] = record
        if time.monotonic() - self._synced > SYNC_SECONDS:
            self.sync()

    def audits(self, indices: Iterable[int]) -> Iterator[str]:
        """The audit lines of each input of `indices`, in that order (one open file for all)."""
        with (self.path.parent / AUDIT).open("rb") as fh:
            for i in indices:
                offset, length = self.settled[i].get("audit_at") or (0, 0)
                fh.seek(offset)
                yield fh.read(length).decode("utf-8", "surrogateescape")

    def _write(self, record: dict) -> bytes:
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        fh, _ = self._files()
        fh.write(line)
        fh.flush()
        return line[:-1]

    def _files(self) -> tuple[BinaryIO, BinaryIO]:
        """The journal and its audit file, open from `start` or `resume` until `close`."""
        if self._fh is None or self._audit is None:
            raise ValueError(f"{self.path}: the journal is closed")
        return self._fh, self._audit

    def sync(self) -> None:
        for fh in reversed(self._files()):
            fh.flush()
            os.fsync(fh.fileno())
        self._synced = time.monotonic()

    def close(self) -> None:
        if self._fh is not None and self._audit is not None:
            try:
                self.sync()
            finally:
                self._fh.close()
                self._audit.close()
                self._fh = self._audit = None


def file_identity(path: Path) -> list[int]:
    """What proves a released file is still the one the journal recorded (size, mtime, inode)."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _identity(path: Path) -> list[int] | None:
    try:
        return file_identity(path)
    except OSError:
        return None
