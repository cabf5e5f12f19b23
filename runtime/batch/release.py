"""The parent's side of a run: each finished input settled — its staged file published, or a
quarantine row — and journaled; the summary and the sidecars made from the journal.

In: the input listing, the output folder, the run's journal, and one `FileResult` per input in
any order. Out: the release tree (a file renamed into place only when it is the first input, in
input order, to give its output path or SOP instance: a later input that finished first gives way
and is quarantined as the duplicate), a journal record per settled input, a `RunSummary`, and at
the end mappings/, quarantine.csv and audit.jsonl in input order, so they do not depend on which
worker finished first, nor on how many attempts the run took.
"""
from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deidc.runtime.batch import outdir
from deidc.runtime.batch.journal import RUN_DIR, Journal, file_identity
from deidc.runtime.batch.worker import FileResult, quarantine


@dataclass
class RunSummary:
    files: int = 0
    written: int = 0
    quarantined: int = 0
    bytes_in: int = 0
    seconds: float = 0.0
    changes_by_action: Counter = field(default_factory=Counter)
    cleaned_by_tag: Counter = field(default_factory=Counter)
    unknown_private: int = 0
    quarantine_reasons: Counter = field(default_factory=Counter)
    uids_mapped: int = 0
    patients_mapped: int = 0
    codec: str = "fast"
    routed: Counter = field(default_factory=Counter)  # files the reference engine handled, by reason
    resumed: int = 0  # inputs an earlier, interrupted run had already settled

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Input:
    """One entry of the input listing, in input order."""
    rel: str  # path relative to the input folder (what the audit names)
    path: Path  # the path as the user can open it (what the quarantine row names)
    refused: tuple[str, str] | None = None  # (kind, reason): never read (symlink, FIFO, ...)


class RunStopped(Exception):
    """The run cannot go on (the output folder is full or unwritable); it can be resumed."""

    def __init__(self, reason: str, summary: RunSummary) -> None:
        super().__init__(reason)
        self.summary = summary


def settled_result(record: dict) -> FileResult:
    """A journaled record as the FileResult the progress display counts."""
    return FileResult(record["input"], record.get("size", 0), quarantine=record.get("quarantine"))


_RECORD_FIELDS = ("input", "size", "output", "quarantine", "quarantine_kind", "action_counts", "cleaned",
                  "unknown_private", "audit", "uid_map", "patient_ids", "issued", "routed", "review")
COLLISION = "pseudonym collision"


class Release:
    """The parent's side of a run: publishes staged files, resolves duplicate SOP instances by
    input order, journals every settled input, and writes the sidecars at the end."""

    def __init__(self, out: Path, entries: list[Input], codec: str) -> None:
        self.out, self.entries, self.codec = out, entries, codec
        self.journal: Journal | None = None
        self.claims: dict[str, int] = {}  # output path, and "sop:" + SOP UID → the input that holds it
        self.made: set[Path] = set()
        self.summary_resumed = 0

    @property
    def _journal(self) -> Journal:
        """The run's journal: the batch opens it before it settles any input."""
        if self.journal is None:
            raise RuntimeError("no journal: the batch opens it before settling inputs")
        return self.journal

    def rebuild_claims(self) -> None:
        for i, record in self._journal.settled.items():
            if record.get("output") and not record.get("quarantine"):
                for key in _claim_keys(record["output"]):
                    self.claims[key] = i

    def settle(self, i: int, result: FileResult, on_file: Callable[[FileResult], None] | None) -> None:
        if result.stop:
            if result.staged:
                Path(result.staged).unlink(missing_ok=True)
            raise RunStopped(result.stop, self.summary())
        if result.staged and not result.quarantine:
            self._publish(i, result)
        record = {k: v for k, v in asdict(result).items() if k in _RECORD_FIELDS}
        if not result.quarantine:
            if result.output is None:
                raise ValueError("a released file has an output path")
            record["file_id"] = file_identity(self.out / result.output)
        else:
            record["output"], record["audit"] = None, ""
        self._journal.record(i, record)
        if on_file:
            on_file(result)

    def _publish(self, i: int, result: FileResult) -> None:
        if result.staged is None or result.output is None:
            raise ValueError("only a staged file with an output path is published")
        staged, output = Path(result.staged), result.output
        keys = _claim_keys(output)
        holders = {self.claims[k] for k in keys if k in self.claims}
        earlier = min((j for j in holders if j < i), default=None)
        if earlier is not None:
            staged.unlink(missing_ok=True)
            quarantine(result, "duplicate SOP instance",
                       f"duplicate SOP instance: {self.entries[earlier].path} already produced {result.output}")
            return
        final = self.out / output
        if final.parent not in self.made:  # one mkdir per series folder, not per file
            final.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(final.parent)
        os.replace(staged, final)
        for j in sorted(holders):  # later inputs that finished first give way
            self._demote(j, "duplicate SOP instance",
                         f"duplicate SOP instance: {self.entries[i].path} already produced {result.output}",
                         keep=result.output)
        for key in keys:
            self.claims[key] = i

    def _demote(self, j: int, kind: str, reason: str, keep: str | None = None) -> None:
        """Take back input `j`'s released file (unless it is now the winner's, at `keep`)."""
        record = dict(self._journal.settled[j])
        if record["output"] != keep:
            (self.out / record["output"]).unlink(missing_ok=True)
        for key in _claim_keys(record["output"]):
            if self.claims.get(key) == j:
                del self.claims[key]
        record.update(output=None, audit="", quarantine_kind=kind, quarantine=reason)
        record.pop("file_id", None)
        record.pop("i", None)
        self._journal.record(j, record)

    def settle_collisions(self) -> None:
        """Two originals given the same pseudonym, hash or lookup value (in one value space) would
        be one patient in the release: the original first in input order keeps the value, and every
        released file of the others is taken back and quarantined. Decided once every input is
        settled — from the journal, so a resumed run checks the attempts before it too — and
        repeated until none is left, since a file taken back may have decided another collision."""
        while True:
            holders: dict[tuple[str, str], dict[str, int]] = {}  # (space, value) -> identity -> first input
            for i, r in sorted(self._journal.settled.items()):
                if not r.get("quarantine"):
                    for space, identity, value, _ in r.get("issued") or ():
                        holders.setdefault((space, value), {}).setdefault(identity, i)
            owner = {key: min(ids, key=lambda identity: ids[identity]) for key, ids in holders.items() if len(ids) > 1}
            if not owner:
                return
            for j, r in sorted(self._journal.settled.items()):
                if r.get("quarantine"):
                    continue
                clash = next(((space, rule, holders[(space, value)][owner[(space, value)]])
                              for space, identity, value, rule in r.get("issued") or ()
                              if (space, value) in owner and identity != owner[(space, value)]), None)
                if clash is not None:
                    space, rule, first = clash
                    where = "this same file" if first == j else str(self.entries[first].path)
                    self._demote(j, COLLISION, (
                        f"{COLLISION}: the rule at {rule} ({space}) gives a value of this file the same result as "
                        f"a different value in {where}; released, the two would be one identity. "
                        "Use a template with more digits (e.g. {hmac:20}, see `deidc lint`)"))

    def summary(self) -> RunSummary:
        """The figures of every settled input (so far, or at the end)."""
        s = RunSummary(codec=self.codec, files=len(self.entries), resumed=self.summary_resumed)
        settled = self.journal.settled if self.journal else {}
        for i in sorted(settled):
            r = settled[i]
            s.bytes_in += r.get("size") or 0
            if r.get("routed"):
                s.routed[r["routed"]] += 1
            if r.get("quarantine"):
                s.quarantined += 1
                s.quarantine_reasons[r.get("quarantine_kind") or "quarantined"] += 1
                continue
            s.written += 1
            s.changes_by_action.update(r.get("action_counts") or {})
            s.cleaned_by_tag.update(r.get("cleaned") or {})
            s.unknown_private += r.get("unknown_private") or 0
        s.uids_mapped, s.patients_mapped = map(len, self.mappings())
        return s

    def mappings(self) -> tuple[dict[str, str], dict[str, str]]:
        """(UID mapping, patient ID mapping) of the released files, merged in input order."""
        uid_map: dict[str, str] = {}
        patid_map: dict[str, str] = {}
        for _i, r in sorted(self.journal.settled.items() if self.journal else ()):
            if not r.get("quarantine"):
                uid_map.update(r.get("uid_map") or {})
                if r.get("patient_ids"):
                    patid_map[r["patient_ids"][0]] = r["patient_ids"][1]
        return uid_map, patid_map

    def finish(self, resumed: bool) -> RunSummary:
        """Every input is settled, collisions too: the sidecars from the journal in input order,
        the run folder removed."""
        summary = self.summary()
        settled = self._journal.settled
        written = sorted(i for i, r in settled.items() if not r.get("quarantine"))
        if resumed:  # files a killed attempt renamed into place but never journaled
            outdir.sweep_strays(self.out, {settled[i]["output"] for i in written})
        uid_map, patid_map = self.mappings()
        rows = ((str(self.entries[i].path), settled[i]["quarantine"]) for i in sorted(settled) if settled[i].get("quarantine"))
        reviews = ({"file": str(self.entries[i].rel), **item} for i in written for item in settled[i].get("review") or ())
        outdir.write_sidecars(self.out, uid_map, patid_map, rows, self._journal.audits(written), reviews)
        shutil.rmtree(self.out / RUN_DIR, ignore_errors=True)
        return summary


def _claim_keys(output: str) -> tuple[str, str]:
    return output, "sop:" + Path(output).stem  # the same instance under another patient/study too
