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
import io
import multiprocessing
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from deidc.compiler.plan import Plan
from deidc.runtime import worker
from deidc.runtime.files import find_inputs, write_text_atomic
from deidc.runtime.worker import FileResult, quarantine

STAGING = ".deidc-staging"
BATCH = 16  # files a worker de-identifies together (shared cleaning); memory stays flat in the corpus


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



def patient_phi(files: list[str], plan: Plan, workers: int) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """The PHI of every patient, over all of their files: a name or an institution that one file
    holds is also looked for in the text and pixels of the patient's other files."""
    worker.STATE["plan"] = plan
    with worker.collect_garbage_after():  # forked workers inherit it
        if workers <= 1:
            return merge_phi(map(worker.gather_phi, files))
        pool = _context().Pool(workers, initializer=worker.STATE.__setitem__, initargs=("plan", plan))
        try:
            return merge_phi(pool.imap(worker.gather_phi, files, chunksize=max(1, min(64, len(files) // (workers * 8) or 1))))
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


def _results(files: list[Path], plan: Plan, keys: dict[str, bytes], input_root: Path, staging: Path,
             workers: int, ocr_name: str, preview_dir: Path | None, engine: str = "local",
             scheduler: str | None = None, codec: str = "fast") -> Iterator[FileResult]:
    if engine not in ("local", "dask"):
        raise ValueError(f"unknown engine {engine!r}: choose local or dask")
    paths = [str(p) for p in files]
    worker.STATE["codec"] = codec  # pass 1 reads with the same engine
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
        worker.init_worker(*args)
        for batch in batches:
            yield from worker.process_files(batch)
        return
    with _context().Pool(workers, initializer=worker.init_worker, initargs=args) as pool:
        for results in pool.imap(worker.process_files, batches):
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
        quarantine(result, "duplicate SOP instance",
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
