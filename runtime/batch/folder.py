"""A folder of DICOM files × Plan → output tree, mappings, audit and quarantine list.

In: a compiled Plan, resolved keys, an input folder, an output folder, a worker count, and
`RunOptions` (engine, reader, OCR, resume, limits, ...). Out, under OUT/:
    <PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm   (new values)
    mappings/uid_mapping.csv, mappings/patid_mapping.csv                      (id_old,id_new)
    audit.jsonl        one line per changed element: file, path, action, rule file:line
    quarantine.csv     every input not released, with the reason
and a `RunSummary`. Every input yields one output file or one quarantine row.

Workers are supervised processes (`pool`): a worker that dies or overruns the time limit costs
its batch a retry file by file, and a file that does it again is quarantined. Files are released
as they finish (`release`; a slow file holds back no other), and each settled input is journaled
(`journal`), so a run that is interrupted, stopped or killed can be resumed. What depends on
order is decided by input order, not by finishing order: among files that give the same SOP
instance the first input wins, and the sidecars are written from the journal, in input order, at
the end. So the output is byte-identical for any worker count, and after any resume.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from deidc.compiler.plan import Plan
from deidc.runtime import limits
from deidc.runtime.batch import worker
from deidc.runtime.batch.inputs import discover_inputs
from deidc.runtime.batch.journal import RUN_DIR, Journal
from deidc.runtime.batch.pool import SupervisedPool, WorkerLost
from deidc.runtime.batch.release import Input, Release, RunStopped, RunSummary, settled_result
from deidc.runtime.batch.worker import FileResult, PatientPhi, WorkerSetup, quarantine
from deidc.runtime.text.detectors import DEFAULT_REVIEW_THRESHOLD

BATCH = 16  # files a worker de-identifies together (shared cleaning); memory stays flat in the corpus
STAGING = f"{RUN_DIR}/staging"


@dataclass(frozen=True)
class RunOptions:
    """How `run_batch` goes about a run (what it de-identifies, and where to, are its arguments)."""
    engine: str = "local"  # local: the supervised pool of this machine; dask: a Dask cluster (`cluster`)
    scheduler: str | None = None  # dask: a running scheduler's address; None starts a local cluster
    codec: str = "fast"  # fast: the byte-level engine, handing the reference engine the files it cannot
    #                      copy; reference: pydicom reads and writes every file
    ocr_name: str = "rapidocr"  # the OCR engine of pixels blocks
    preview_dir: Path | None = None  # a PNG of every redacted frame goes here
    resume: bool = False  # continue the interrupted run journaled in the output folder
    follow_symlinks: bool = False  # follow links inside the input folder (else each is quarantined)
    run_limits: limits.Limits | None = None  # None: this process's (`limits.current()`)
    rule_options: tuple[str, ...] = ()  # the rule file's options selected (the run's fingerprint has them)
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD  # detections less confident go to review.jsonl


class NoInputs(ValueError):
    """The input holds no file at all."""


class RunInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped the run; what finished is kept and it can be resumed."""

    def __init__(self, summary: RunSummary) -> None:
        super().__init__("interrupted")
        self.summary = summary


def list_inputs(input_root: Path, follow_symlinks: bool) -> tuple[Path, list[Input]]:
    """(the folder paths are relative to, every input in a deterministic order)."""
    listing = discover_inputs(input_root, follow_symlinks)
    root = input_root if input_root.is_dir() else input_root.parent
    entries = [Input(_rel(p, root, input_root), p) for p in listing.files]
    entries += [Input(_rel(r.path, root, input_root), r.path, (r.kind, r.reason)) for r in listing.refused]
    entries.sort(key=lambda e: os.fsencode(e.rel))
    return root, entries


def _rel(path: Path, root: Path, given: Path) -> str:
    return path.name if path == given and not given.is_dir() else str(path.relative_to(root))


def run_fingerprint(plan: Plan, keys: dict[str, bytes], input_root: Path, entries: list[Input],
                    options: RunOptions) -> str:
    """What must be the same for `--resume` to continue a run: the rule files' contents, the
    options, the keys (as keyed digests: never the key), the input, the engine and the limits that
    decide outcomes. The time and memory limits may change between attempts."""
    run_limits = options.run_limits or limits.current()
    digest = hashlib.sha256()
    for source in plan.sources:
        digest.update(source.encode() + b"\0" + hashlib.sha256(Path(source).read_bytes()).digest())
    digest.update("\0".join(sorted(options.rule_options)).encode() + b"\1" + options.codec.encode())
    for name in sorted(keys):
        digest.update(name.encode() + hmac.new(keys[name], b"deidc run fingerprint", "sha256").digest())
    digest.update(os.fsencode(input_root.resolve()) + b"\1")
    for e in entries:
        digest.update(os.fsencode(e.rel) + b"\0")
    outcome_limits = (run_limits.inflated_bytes, run_limits.sequence_depth, run_limits.clean_chars,
                      run_limits.phi_words)
    digest.update(repr(outcome_limits).encode())
    return digest.hexdigest()


def patient_phi(files: list[str], setup: WorkerSetup, workers: int) -> tuple[PatientPhi, dict[str, str]]:
    """The PHI of every patient, over all of their files: a name or an institution that one file
    holds is also looked for in the text and pixels of the patient's other files. Also the files
    that killed or stalled a worker (path → reason): pass 2 quarantines them without a retry."""
    run_limits = setup.run_limits
    found: list = []
    lost: dict[str, str] = {}
    with SupervisedPool(workers, worker.gather_phi_batch, _init_pool_worker, (setup,)) as pool:
        for task_id, result in _supervised(pool, files, run_limits, chunk=64):
            if isinstance(result, WorkerLost):
                lost[files[task_id]] = _lost_reason(result, run_limits)
            else:
                found.append(result)
    return merge_phi(found), lost


def _supervised(pool: SupervisedPool, paths: list[str], run_limits: limits.Limits,
                chunk: int) -> Iterator[tuple[int, object]]:
    """Run `paths` on the pool in chunks; a chunk whose worker is lost is run again file by
    file; yield (position, result of one file) for each file, or (position, WorkerLost) for a
    file that lost its worker on its own."""
    # A chunk gets the time limit of one file: a file that hangs is found within one limit, not
    # one per file of its chunk; a chunk of legitimately slow files just costs a retry.
    seconds = run_limits.file_seconds
    for start in range(0, len(paths), chunk):
        positions = list(range(start, min(len(paths), start + chunk)))
        pool.submit(tuple(positions), [paths[i] for i in positions], seconds)
    for positions, result in pool.results():
        if not isinstance(result, WorkerLost):
            yield from zip(positions, result, strict=True)
        elif len(positions) == 1:
            yield positions[0], result
        else:
            for i in positions:  # find the file to blame: one per task, before the rest
                pool.submit((i,), [paths[i]], seconds, first=True)


def _lost_reason(lost: WorkerLost, run_limits: limits.Limits) -> str:
    if lost.timed_out:
        return (f"took longer than the time limit of {run_limits.file_seconds:g} s per file "
                "(--file-timeout raises it)")
    return f"{lost.reason} while processing this file"


def merge_phi(found: Iterable[tuple[str, dict] | None]) -> PatientPhi:
    """`gather_phi` results, in any order and from any worker, merged per patient (sorted, so the
    merge does not depend on which worker read which file)."""
    merged: dict[str, dict[str, set[tuple[str, str]]]] = {}
    for item in found:
        if item is None:
            continue
        patient, values = item
        per_patient = merged.setdefault(patient, {})
        for name, pairs in values.items():
            per_patient.setdefault(name, set()).update(pairs)
    return {p: {n: sorted(v) for n, v in names.items()} for p, names in merged.items()}


def _init_pool_worker(setup: WorkerSetup) -> None:
    """A worker process of the local pool (either pass): capped to the run's limits, configured."""
    worker.confine(setup.run_limits)
    worker.configure(setup)


def _results(todo: list[int], entries: list[Input], setup: WorkerSetup, workers: int,
             options: RunOptions) -> Iterator[tuple[int, FileResult]]:
    """(input index, result) for every index of `todo`, as each file finishes. `setup` is the
    workers' but for the PHI pass 1 shares (found here, or on the cluster)."""
    if options.engine not in ("local", "dask"):
        raise ValueError(f"unknown engine {options.engine!r}: choose local or dask")
    run_limits = setup.run_limits
    files = [i for i, e in enumerate(entries) if e.refused is None]
    dask = options.engine == "dask"
    lost: dict[str, str] = {}
    if setup.plan.collects and not dask:  # dask: pass 1 runs on the cluster too, inside cluster_results
        phi_paths = [str(entries[i].path) for i in files]
        shared, lost = patient_phi(phi_paths, setup, workers)
        setup = replace(setup, shared_phi=shared)
    if dask:
        from deidc.runtime.batch.cluster import cluster_results  # lazy: dask is imported only when used
        paths = [str(entries[i].path) for i in todo]
        yield from zip(todo, cluster_results(paths, setup, workers, options.scheduler), strict=True)
        return
    paths_left = []
    for i in todo:
        reason = lost.get(str(entries[i].path))
        if reason is None:
            paths_left.append(i)
            continue
        stalled = FileResult(entries[i].rel, _size(entries[i].path))
        quarantine(stalled, "killed or stalled its worker", reason)
        yield i, stalled
    size = max(1, min(BATCH, -(-len(paths_left) // (workers * 4))))  # enough batches to keep workers busy
    with SupervisedPool(workers, worker.process_files, _init_pool_worker, (setup,)) as pool:
        for position, result in _supervised(pool, [str(entries[i].path) for i in paths_left], run_limits, size):
            i = paths_left[position]
            if isinstance(result, WorkerLost):
                result_lost = FileResult(entries[i].rel, _size(entries[i].path))
                kind = "exceeds a limit" if result.timed_out else "killed or stalled its worker"
                quarantine(result_lost, kind, _lost_reason(result, run_limits))
                yield i, result_lost
            else:
                assert isinstance(result, FileResult)  # what worker.process_files returns, file by file
                yield i, result


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def run_batch(plan: Plan, keys: dict[str, bytes], input_root: Path, out: Path, workers: int,
              on_file: Callable[[FileResult], None] | None = None,
              on_start: Callable[[int], None] | None = None, *, options: RunOptions = RunOptions()) -> RunSummary:
    """`on_start(number of inputs)` once, `on_file(result)` for each input as it settles.
    `options.resume`: continue the interrupted run journaled in `out` (the same rules, options,
    key and input; else `JournalMismatch`). Raises `NoInputs`, `RunStopped` (output full or
    unwritable) and `RunInterrupted` (Ctrl-C)."""
    if options.run_limits is None:
        options = replace(options, run_limits=limits.current())
    resume = options.resume
    started = time.perf_counter()
    root, entries = list_inputs(input_root, options.follow_symlinks)
    if not entries:
        raise NoInputs(f"input {input_root} holds no files")
    if on_start:
        on_start(len(entries))
    fingerprint = run_fingerprint(plan, keys, input_root, entries, options)
    release = Release(out, entries, options.codec)
    try:
        release.journal = (Journal.resume if resume else Journal.start)(out, fingerprint, len(entries))
    except OSError as err:
        raise RunStopped(f"cannot write to the output folder {out}: {err.strerror or err}", release.summary()) from None
    journal = release.journal
    staging = out / STAGING
    try:
        release.summary_resumed = len(journal.settled)
        if resume:
            release.rebuild_claims()
            for i in journal.settled:
                if on_file:
                    on_file(settled_result(journal.settled[i]))
        for i, entry in enumerate(entries):
            if entry.refused and i not in journal.settled:
                result = FileResult(entry.rel, 0)
                quarantine(result, *entry.refused)
                release.settle(i, result, on_file)
        todo = [i for i, e in enumerate(entries) if e.refused is None and i not in journal.settled]
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True, exist_ok=True)
        # several workers (a cluster: always): one OCR thread each, or their thread pools fight over the cores
        ocr_threads = 1 if workers > 1 or options.engine == "dask" else 0
        setup = WorkerSetup(plan, keys, root, staging, options.ocr_name, options.preview_dir,
                            ocr_threads=ocr_threads, codec=options.codec,
                            run_limits=options.run_limits or limits.current(),
                            review_threshold=options.review_threshold)
        for i, result in _results(todo, entries, setup, workers, options):
            release.settle(i, result, on_file)
        release.settle_collisions()
    except KeyboardInterrupt:
        raise RunInterrupted(release.summary()) from None
    except OSError as err:  # the parent's own writes: renames, folders, the journal
        raise RunStopped(f"cannot write to the output folder {out}: {err.strerror or err}", release.summary()) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        try:
            journal.close()
        except OSError:
            pass  # a full disk: --resume re-checks every journaled output anyway
    try:
        summary = release.finish(resume)
    except OSError as err:
        raise RunStopped(f"cannot write the sidecars to {out}: {err.strerror or err}", release.summary()) from None
    summary.seconds = time.perf_counter() - started
    return summary


