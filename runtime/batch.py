"""A folder of DICOM files × Plan → output tree, mappings, audit and quarantine list.

In: a compiled Plan, resolved keys, an input folder, an output folder, a worker count.
Out, under OUT/:
    <PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm   (new values)
    mappings/uid_mapping.csv, mappings/patid_mapping.csv                      (id_old,id_new)
    audit.jsonl        one line per changed element: file, path, action, rule file:line
    quarantine.csv     every input not released, with the reason
and a `RunSummary`. Workers are processes that each build the Plan's dispatcher once; the parent
receives results in input order and is the only writer of final paths, so the output is
byte-identical for any worker count. Every input yields one output file or one quarantine row.
"""
from __future__ import annotations

import csv
import gc
import io
import json
import multiprocessing
import os
import shutil
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

from deidc.compiler.plan import Plan
from deidc.runtime.files import InputFile, NotDicom, find_inputs, output_relpath, read_input, write_temporary, write_text_atomic
from deidc.runtime.rawread import NotForFastEngine, read_headers
from deidc.runtime.rawscan import scan_collected
from deidc.runtime.cleaning import collected_values
from deidc.runtime.ocr import LazyOcrEngine
from deidc.runtime.walk import REQUIRED, Change, DatasetDeidentifier, FileWork

STAGING = ".deidc-staging"
BATCH = 16  # files a worker de-identifies together (shared cleaning); memory stays flat in the corpus


@dataclass
class FileResult:
    input: str
    size: int
    output: str | None = None
    staged: str | None = None
    quarantine: str | None = None
    quarantine_kind: str | None = None  # short category for the summary
    warnings: list[str] = field(default_factory=list)
    action_counts: dict[str, int] = field(default_factory=dict)
    cleaned: dict[str, int] = field(default_factory=dict)  # leaf tag "(gggg,eeee)" → values cleaned
    unknown_private: int = 0
    audit: str = ""  # the file's audit lines, formatted by the worker to spare the parent
    uid_map: dict[str, str] = field(default_factory=dict)
    patient_ids: tuple[str, str] | None = None
    routed: str | None = None  # why the fast engine left this file to the reference engine


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

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


# ---- worker side -----------------------------------------------------------------------------

_WORKER: dict = {}


def gather_phi(path_text: str) -> tuple[str, dict[str, list[tuple[str, str]]]] | None:
    """Pass 1: (original PatientID, the PHI each `collect` finds in this file); None if unreadable."""
    plan: Plan = _WORKER["plan"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if _WORKER.get("codec", "fast") == "fast":
                try:
                    return _scanned_phi(Path(path_text), plan)
                except NotForFastEngine:
                    pass
            ds = _headers(Path(path_text), _WORKER.get("codec", "fast"))
            patient = str(ds.get("PatientID", "") or "").strip() or str(ds.get("StudyInstanceUID", "") or "")
            return patient, {name: collected_values(ds, c.tags) for name, c in plan.collects.items()}
    except Exception:  # noqa: BLE001 — pass 2 quarantines it with the reason
        return None


def _scanned_phi(path: Path, plan: Plan) -> tuple[str, dict[str, list[tuple[str, str]]]]:
    """Pass 1 without a dataset: the collected values straight from the element headers."""
    wanted = {tag for c in plan.collects.values() for tag in c.tags}
    patient, values = scan_collected(path, wanted)
    return patient, {name: [(c.tags[tag], text) for tag, texts in values if tag in c.tags for text in texts]
                     for name, c in plan.collects.items()}


def _headers(path: Path, codec: str):
    """The dataset for pass 1: the fast reader when it can, pydicom without pixel data if not."""
    if codec == "fast":
        try:
            return read_headers(path)
        except NotForFastEngine:
            pass
    return pydicom.dcmread(path, stop_before_pixels=True, force=True)


def patient_phi(files: list[str], plan: Plan, workers: int) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """The PHI of every patient, over all of their files: a name or an institution that one file
    holds is also looked for in the text and pixels of the patient's other files."""
    _WORKER["plan"] = plan
    with _collect_garbage_after():  # forked workers inherit it
        if workers <= 1:
            return merge_phi(map(gather_phi, files))
        pool = _context().Pool(workers, initializer=_WORKER.__setitem__, initargs=("plan", plan))
        try:
            return merge_phi(pool.imap(gather_phi, files, chunksize=max(1, min(64, len(files) // (workers * 8) or 1))))
        finally:
            pool.close()
            pool.join()


def merge_phi(found: Iterable[tuple[str, dict] | None]) -> dict[str, dict[str, list[tuple[str, str]]]]:
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


def _context():
    # fork: workers inherit the imported modules and the Plan instead of re-importing them. The
    # CLI keeps the parent single-threaded (no auto-refreshing progress thread) so fork is safe.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _init_worker(plan: Plan, keys: dict[str, bytes], input_root: str, staging: str,
                 ocr_name: str = "rapidocr", preview_dir: str | None = None,
                 shared: dict | None = None, ocr_threads: int = 0, codec: str = "fast") -> None:
    _WORKER["shared_phi"] = shared or {}
    _WORKER["codec"] = codec
    ocr = LazyOcrEngine(ocr_name, ocr_threads) if plan.pixels else None
    # fuzzy scoring threads as for OCR: all cores in a single process, one each in a pool
    _WORKER["deidentifier"] = DatasetDeidentifier(plan, keys, ocr, Path(preview_dir) if preview_dir else None,
                                                  fuzzy_workers=ocr_threads or -1)
    _WORKER["input_root"] = Path(input_root)
    _WORKER["staging"] = Path(staging)
    gc.freeze()  # the Plan and the dispatcher live as long as the worker: never scan them


def process_file(path_text: str) -> FileResult:
    """Read, de-identify and stage one file. Any failure quarantines the file (fail closed)."""
    return process_files([path_text])[0]


def process_files(path_texts: list[str]) -> list[FileResult]:
    """Read, de-identify and stage a batch of files: each is read and walked on its own, then
    the work the walks deferred (DA shifts, cleaning) is done for the whole batch, then each is
    finished and staged. Any failure quarantines only its own file (fail closed)."""
    with _collect_garbage_after():
        return _process(path_texts)


@contextmanager
def _collect_garbage_after():
    """No cyclic garbage collection inside a batch, one young-generation collection after it:
    a batch allocates thousands of short-lived objects, and collections triggered among them
    cost a fifth of the time of a file. Datasets hold no reference cycles (refcounting frees
    them), so nothing accumulates. The Plan is frozen out of collections (`_init_worker`)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect(1)


def _process(path_texts: list[str]) -> list[FileResult]:
    pending = [_start(Path(p)) for p in path_texts]
    live = [p for p in pending if p.work is not None]
    # the shared work credits each warning to its file (FileWarnings); none is left to spread
    _WORKER["deidentifier"].run_deferred([p.work for p in live])
    for p in live:
        if p.work.ctx is not None:
            p.caught.extend(p.work.ctx.warnings)
        _guarded(p, _complete)
    return [_close(p) for p in pending]


@dataclass
class _Pending:
    """One file of a batch, between its stages."""
    path: Path
    result: FileResult
    caught: list = field(default_factory=list)  # warnings raised while handling this file
    source: InputFile | None = None
    present: set = field(default_factory=set)
    work: FileWork | None = None


def _guarded(p: _Pending, stage: Callable[[_Pending], None]) -> None:
    """Run one stage of one file; its warnings are the file's, its failure quarantines it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            stage(p)
        except (NotDicom, OSError) as err:
            _quarantine(p.result, "not DICOM or unreadable", str(err))
        except Exception as err:  # noqa: BLE001 — one bad file must not stop the batch, nor leak
            _quarantine(p.result, "failed while de-identifying", f"failed while de-identifying ({type(err).__name__}: {err})")
    p.caught.extend(caught)
    if p.result.quarantine:
        p.work = None


def _start(path: Path) -> _Pending:
    root = _WORKER["input_root"]
    p = _Pending(path, FileResult(str(path.relative_to(root)) if path != root else path.name, 0))
    _guarded(p, _read_and_walk)
    return p


def _read_and_walk(p: _Pending) -> None:
    p.result.size = p.path.stat().st_size
    p.source = read_input(p.path, _WORKER.get("codec", "fast"))
    ds, p.result.routed = p.source.dataset, p.source.routed
    p.present = {tag for tag in REQUIRED if tag in ds}
    patient = str(ds.get("PatientID", "") or "").strip() or str(ds.get("StudyInstanceUID", "") or "")
    p.work = _WORKER["deidentifier"].begin(ds, _WORKER["shared_phi"].get(patient))
    _check_outcome(p)


def _check_outcome(p: _Pending) -> None:
    outcome = p.work.outcome
    if outcome.error is not None:
        raise outcome.error
    if outcome.quarantine:
        _quarantine(p.result, "quarantined by a rule", outcome.quarantine)


def _complete(p: _Pending) -> None:
    _WORKER["deidentifier"].finish(p.work)
    _check_outcome(p)
    if p.result.quarantine:
        return
    ds, outcome, result = p.source.dataset, p.work.outcome, p.result
    lost = [REQUIRED[t] for t in sorted(p.present) if t not in ds]
    if lost:
        return _quarantine(result, "rules remove a required attribute",
                           f"the rules remove required attribute(s) {', '.join(lost)}")
    result.output = str(output_relpath(ds))
    staged, fast = write_temporary(ds, _WORKER["staging"], p.source.source)
    result.staged = str(staged)
    if p.source.source is not None and not fast:
        result.routed = "written by the reference engine (character set or transfer syntax changed)"
    result.uid_map, result.patient_ids = outcome.uid_map, outcome.patient_ids
    result.unknown_private = outcome.unknown_private
    result.action_counts = dict(Counter(change.action for change in outcome.changes))
    result.cleaned = dict(Counter(change.path.rsplit("/", 1)[-1] for change in outcome.changes
                                  if change.action == "clean"))
    result.audit = _audit_lines(result, outcome.changes)


def _close(p: _Pending) -> FileResult:
    result = p.result
    result.warnings = sorted({str(w.message) for w in p.caught})
    if result.warnings and not result.quarantine:
        result.audit += "".join(json.dumps({"file": result.input, "output": result.output, "warning": w}) + "\n"
                                for w in result.warnings)
    return result


def _quarantine(result: FileResult, kind: str, reason: str) -> None:
    result.quarantine, result.quarantine_kind = reason, kind


def _audit_lines(result: FileResult, changes: list[Change]) -> str:
    """JSON lines; the per-file and per-rule parts are encoded once (hundreds of changes per file)."""
    head = json.dumps({"file": result.input, "output": result.output})[:-1]
    encoded: dict[str, str] = {}
    lines = []
    for c in changes:
        rule = encoded.get(c.rule) or encoded.setdefault(c.rule, json.dumps(c.rule))
        note = f', "note": {json.dumps(c.note)}' if c.note else ""
        lines.append(f'{head}, "path": "{c.path}", "action": "{c.action}", "rule": {rule}{note}}}\n')
    return "".join(lines)


# ---- parent side -----------------------------------------------------------------------------


def _results(files: list[Path], plan: Plan, keys: dict[str, bytes], input_root: Path, staging: Path,
             workers: int, ocr_name: str, preview_dir: Path | None, engine: str = "local",
             scheduler: str | None = None, codec: str = "fast") -> Iterator[FileResult]:
    if engine not in ("local", "dask"):
        raise ValueError(f"unknown engine {engine!r}: choose local or dask")
    paths = [str(p) for p in files]
    _WORKER["codec"] = codec  # pass 1 reads with the same engine
    dask = engine == "dask"
    # dask: pass 1 runs on the cluster too, inside cluster_results
    shared = patient_phi(paths, plan, workers) if plan.collects and not dask else {}
    # several workers (a cluster: always): one OCR thread each, or their thread pools fight over the cores
    args = (plan, keys, str(input_root), str(staging), ocr_name, str(preview_dir) if preview_dir else None,
            shared, 1 if workers > 1 or dask else 0, codec)
    if dask:
        from deidc.runtime.cluster import cluster_results  # lazy: dask is imported only when used
        yield from cluster_results(paths, args, workers, scheduler)
        return
    size = max(1, min(BATCH, -(-len(paths) // (workers * 4))))  # enough batches to keep workers busy
    batches = [paths[i:i + size] for i in range(0, len(paths), size)]
    if workers <= 1:
        _init_worker(*args)
        for batch in batches:
            yield from process_files(batch)
        return
    with _context().Pool(workers, initializer=_init_worker, initargs=args) as pool:
        for results in pool.imap(process_files, batches):
            yield from results


def run_batch(plan: Plan, keys: dict[str, bytes], input_root: Path, out: Path, workers: int,
              on_file: Callable[[FileResult], None] | None = None,
              on_start: Callable[[int], None] | None = None, ocr_name: str = "rapidocr",
              preview_dir: Path | None = None, engine: str = "local",
              scheduler: str | None = None, codec: str = "fast") -> RunSummary:
    """`codec`: "fast" (the byte-level engine, with the reference engine for files it cannot
    copy) or "reference" (pydicom reads and writes every file)."""
    files = find_inputs(input_root)
    if on_start:
        on_start(len(files))
    root = input_root if input_root.is_dir() else input_root.parent
    staging = out / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    _MADE.clear()  # folders made by an earlier run in this process may be gone
    summary = RunSummary(codec=codec)
    uid_map: dict[str, str] = {}
    patid_map: dict[str, str] = {}
    written: dict[str, str] = {}  # output path and new SOP Instance UID -> input that produced it
    quarantine_rows: list[tuple[str, str]] = []
    audit_tmp = out / "audit.jsonl.partial"
    started = time.perf_counter()
    with audit_tmp.open("w", encoding="utf-8") as audit:
        for result in _results(files, plan, keys, root, staging, workers, ocr_name, preview_dir,
                               engine, scheduler, codec):
            summary.files += 1
            summary.bytes_in += result.size
            if result.routed:
                summary.routed[result.routed] += 1
            if result.staged:
                _publish(result, out, written)
            if result.quarantine:
                summary.quarantined += 1
                summary.quarantine_reasons[result.quarantine_kind] += 1
                quarantine_rows.append((result.input, result.quarantine))
            else:
                summary.written += 1
                uid_map.update(result.uid_map)
                if result.patient_ids:
                    patid_map[result.patient_ids[0]] = result.patient_ids[1]
                summary.changes_by_action.update(result.action_counts)
                summary.cleaned_by_tag.update(result.cleaned)
                summary.unknown_private += result.unknown_private
                audit.write(result.audit)
            if on_file:
                on_file(result)
    os.replace(audit_tmp, out / "audit.jsonl")
    summary.seconds = time.perf_counter() - started
    shutil.rmtree(staging, ignore_errors=True)
    _write_mapping(out / "mappings" / "uid_mapping.csv", uid_map)
    _write_mapping(out / "mappings" / "patid_mapping.csv", patid_map)
    _write_quarantine(out / "quarantine.csv", quarantine_rows)
    summary.uids_mapped, summary.patients_mapped = len(uid_map), len(patid_map)
    return summary


def _publish(result: FileResult, out: Path, written: dict[str, str]) -> None:
    staged = Path(result.staged)
    sop = "sop:" + Path(result.output).stem  # the same instance under another patient/study too
    first = written.get(result.output) or written.get(sop)
    if first is not None:
        staged.unlink(missing_ok=True)
        _quarantine(result, "duplicate SOP instance",
                    f"duplicate SOP Instance: {first} already produced {result.output}")
        result.output, result.audit = None, ""
        return
    final = out / result.output
    if final.parent not in _MADE:  # one mkdir per series folder, not per file
        final.parent.mkdir(parents=True, exist_ok=True)
        _MADE.add(final.parent)
    os.replace(staged, final)
    written[result.output] = written[sop] = result.input


_MADE: set[Path] = set()


def _write_mapping(path: Path, mapping: dict[str, str]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id_old", "id_new"])
    writer.writerows(sorted(mapping.items()))
    write_text_atomic(path, buf.getvalue())


def _write_quarantine(path: Path, rows: list[tuple[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["file", "reason"])
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())
