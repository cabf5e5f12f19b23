"""One worker process of a batch: pass 1 (the PHI of each file) and pass 2 (read, de-identify,
stage), in batches of files, with the setup the worker is configured with once.

In: paths, and (once, `configure`) a `WorkerSetup`: the Plan, keys, folders and options. Out:
per file of pass 1, (patient key, collected PHI) or None; per file of pass 2, a `FileResult` — the
staged output's temporary path and everything the parent needs for the summary, mappings, audit
and quarantine list. Any failure quarantines its own file only (fail closed). Used by the local
process pool (`batch`) and by Dask workers (`cluster`) alike.
"""
from __future__ import annotations

import gc
import resource
import warnings
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

from deidc.compiler.plan import Plan
from deidc.runtime import audit, limits
from deidc.runtime.batch.outdir import output_relpath
from deidc.runtime.codec.files import (
    InputFile,
    InvalidOutput,
    MalformedInput,
    NotDicom,
    check_input,
    read_input,
    sync_files,
    write_temporary,
)
from deidc.runtime.codec.rawread import NotForFastEngine, read_headers
from deidc.runtime.codec.rawscan import scan_collected
from deidc.runtime.interpret.collect import collected_values
from deidc.runtime.interpret.walk import REQUIRED, DatasetDeidentifier, FileWork
from deidc.runtime.limits import LimitExceeded
from deidc.runtime.pixels.ocr import LazyOcrEngine
from deidc.runtime.text.clean import check_collected
from deidc.runtime.text.detectors import DEFAULT_REVIEW_THRESHOLD


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
    issued: list[tuple[str, str, str, str]] = field(default_factory=list)  # pseudonyms given (release.py)
    review: list[dict] = field(default_factory=list)  # `clean ... detect` detections to review (review.jsonl)
    routed: str | None = None  # why the fast engine left this file to the reference engine
    stop: str | None = None  # the output could not be written (disk full, read-only): the run stops


class OutputFailure(Exception):
    """Writing to the output folder failed (disk full, read-only, permissions): not this file's fault."""


PatientPhi = dict[str, dict[str, list[tuple[str, str]]]]  # patient key → collect name → (kind, value)


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker process of a run is given once: plain data, pickled once per worker (the
    Plan is the bulk of it). `batch` and `cluster` build it; `configure` makes it this process's.
    Paths may be given as text. The dicts are shared, never changed."""
    plan: Plan
    keys: dict[str, bytes]
    input_root: Path  # what a result's `input` is relative to
    staging: Path  # where pass 2 writes the staged outputs
    ocr_name: str = "rapidocr"
    preview_dir: Path | None = None  # a PNG of every redacted frame goes here
    shared_phi: PatientPhi = field(default_factory=dict)  # pass 1's result, for pass 2
    ocr_threads: int = 0  # 0: all cores (a single process); 1 in a pool, where workers share the cores
    codec: str = "fast"  # both passes read with the same engine
    run_limits: limits.Limits = field(default_factory=limits.current)
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD  # `clean ... detect`: less confident ones are reviewed

    def __post_init__(self) -> None:
        for name in ("input_root", "staging", "preview_dir"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))


@dataclass(frozen=True)
class _Configured:
    """This process's setup and what it builds from it once: the deidentifier (and its OCR engine)."""
    setup: WorkerSetup
    deidentifier: DatasetDeidentifier


_configured: _Configured | None = None  # set by `configure`, once per process (per run, on Dask)


def configure(setup: WorkerSetup) -> None:
    """Make `setup` this process's: its limits, and the deidentifier pass 2 uses (built here, so
    each file finds it ready). The memory cap is `confine`'s, for the local pool's workers."""
    global _configured
    limits.configure(setup.run_limits)
    plan = setup.plan
    ocr = LazyOcrEngine(setup.ocr_name, setup.ocr_threads) if plan.pixels else None
    # fuzzy scoring threads as for OCR: all cores in a single process, one each in a pool
    deidentifier = DatasetDeidentifier(plan, setup.keys, ocr, setup.preview_dir,
                                       fuzzy_workers=setup.ocr_threads or -1, review_below=setup.review_threshold)
    _configured = _Configured(setup, deidentifier)
    gc.freeze()  # the Plan and the dispatcher live as long as the worker: never scan them


def init_worker(plan: Plan, keys: dict[str, bytes], input_root: str | Path, staging: str | Path,
                **options) -> None:
    """`configure` this process with a `WorkerSetup` of these and `options` (its other fields)."""
    configure(WorkerSetup(plan, keys, Path(input_root), Path(staging), **options))


def confine(run_limits: limits.Limits) -> None:
    """Make this worker process live within the run's limits: its memory is capped, so an
    allocation past the cap raises MemoryError in the file that made it (quarantined), instead of
    the kernel's OOM killer taking the worker, or the machine."""
    limits.configure(run_limits)
    cap = run_limits.worker_memory
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))


def _here() -> _Configured:
    if _configured is None:
        raise RuntimeError("this worker process is not configured (worker.configure)")
    return _configured


def gather_phi(path_text: str) -> tuple[str, dict[str, list[tuple[str, str]]]] | None:
    """Pass 1: (original PatientID, the PHI each `collect` finds in this file); None if the file
    is one pass 2 refuses (cut, malformed, over a limit: its bytes are not to be trusted, nor
    inflated), or has no patient key (its PHI is its own: files without a key share nothing)."""
    setup = _here().setup
    plan = setup.plan
    path = Path(path_text)
    try:
        check_input(path)  # the same check pass 2 makes first
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = None
            if setup.codec == "fast":
                try:
                    found = _scanned_phi(path, plan)
                except NotForFastEngine:
                    pass
            if found is None:
                ds = _headers(path, setup.codec)
                patient = str(ds.get("PatientID", "") or "").strip() or str(ds.get("StudyInstanceUID", "") or "")
                found = patient, {name: collected_values(ds, c.tags) for name, c in plan.collects.items()}
        for name, values in found[1].items():
            check_collected(values, name)  # a huge value is no PHI to share: its file is quarantined
    except Exception:  # noqa: BLE001 — pass 2 quarantines it with the reason
        return None
    return found if found[0] else None


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


def gather_phi_batch(path_texts: list[str]) -> list[tuple[str, dict[str, list[tuple[str, str]]]] | None]:
    """Pass 1 over a batch of files (one task of the supervised pool)."""
    with collect_garbage_after():
        return [gather_phi(p) for p in path_texts]


def process_files(path_texts: list[str]) -> list[FileResult]:
    """Read, de-identify and stage a batch of files: each is read and walked on its own, then
    the work the walks deferred (DA shifts, cleaning) is done for the whole batch, then each is
    finished and staged. Any failure quarantines only its own file (fail closed)."""
    with collect_garbage_after():
        return _process(path_texts)


@contextmanager
def collect_garbage_after():
    """No cyclic garbage collection inside a batch, one young-generation collection after it:
    a batch allocates thousands of short-lived objects, and collections triggered among them
    cost a fifth of the time of a file. Datasets hold no reference cycles (refcounting frees
    them), so nothing accumulates. The Plan is frozen out of collections (`configure`)."""
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
    failed = _here().deidentifier.run_deferred_together([p.begun for p in live]) if live else None
    if failed is not None:
        if len(live) > 1:
            # the batch's shared work failed part-way, its datasets half changed: each file again,
            # alone and from its own bytes, so the file to blame fails and the others are unaffected
            return [result for p in path_texts for result in _process([p])]
        live[0].begun.outcome.error, live[0].begun.ctx = failed, None
    for p in live:
        ctx = p.begun.ctx
        if ctx is not None:
            p.caught.extend(ctx.warnings)
        _guarded(p, _complete)
    _make_durable([p.result for p in pending])
    return [_close(p) for p in pending]


def _make_durable(results: list[FileResult]) -> None:
    """fsync the batch's staged files before the parent may rename them into place."""
    staged = [r for r in results if r.staged and not r.quarantine and not r.stop]
    try:
        sync_files([r.staged for r in staged if r.staged])
    except OSError as err:  # the output folder's fault (a failing disk, a full one): the run stops
        for r in staged:
            r.stop = f"cannot write to the output folder: {err.strerror or err}"


@dataclass
class _Pending:
    """One file of a batch, between its stages."""
    path: Path
    result: FileResult
    caught: list = field(default_factory=list)  # warnings raised while handling this file
    source: InputFile | None = None
    present: set = field(default_factory=set)
    work: FileWork | None = None

    @property
    def begun(self) -> FileWork:
        """The file's work, once `_begin` has read it and begun it."""
        if self.work is None:
            raise ValueError(f"{self.path}: not begun")
        return self.work

    @property
    def read(self) -> InputFile:
        """The file as read, once `_begin` has read it."""
        if self.source is None:
            raise ValueError(f"{self.path}: not read")
        return self.source


def _guarded(p: _Pending, stage: Callable[[_Pending], None]) -> None:
    """Run one stage of one file; its warnings are the file's, its failure quarantines it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            stage(p)
        except OutputFailure as err:  # the output folder's fault, not the file's: the run stops
            p.result.stop = str(err)
        except LimitExceeded as err:
            quarantine(p.result, err.kind, str(err))
        except MemoryError:
            quarantine(p.result, "exceeds a limit", "needs more memory than a worker may use "
                       f"({limits.current().worker_memory >> 20} MB; --max-memory raises it)")
        except RecursionError:  # a bound the integrity check should have caught first: say so
            quarantine(p.result, "exceeds a limit", "structures nested too deeply to process")
        except InvalidOutput as err:  # the staged output failed the structural check: not released
            quarantine(p.result, "output would not decode", str(err))
        except MalformedInput as err:  # cut or malformed: refused whole, before either engine parsed it
            quarantine(p.result, "truncated or malformed DICOM", str(err))
        except (NotDicom, OSError) as err:
            quarantine(p.result, "not DICOM or unreadable", str(err))
        except Exception as err:  # noqa: BLE001 — one bad file must not stop the batch, nor leak
            quarantine(p.result, "failed while de-identifying",
                       f"failed while de-identifying ({audit.summarise_error(err)})")
    p.caught.extend(caught)
    if p.result.quarantine or p.result.stop:
        p.work = None


def _start(path: Path) -> _Pending:
    root = _here().setup.input_root
    p = _Pending(path, FileResult(str(path.relative_to(root)) if path != root else path.name, 0))
    _guarded(p, _read_and_walk)
    return p


def _read_and_walk(p: _Pending) -> None:
    p.result.size = p.path.stat().st_size
    setup = _here().setup
    p.source = read_input(p.path, setup.codec)
    ds, p.result.routed = p.source.dataset, p.source.routed
    p.present = {tag for tag in REQUIRED if tag in ds}
    patient = str(ds.get("PatientID", "") or "").strip() or str(ds.get("StudyInstanceUID", "") or "")
    p.work = _here().deidentifier.begin(ds, setup.shared_phi.get(patient))
    _check_outcome(p)


def _check_outcome(p: _Pending) -> None:
    outcome = p.begun.outcome
    if outcome.error is not None:
        raise outcome.error
    if outcome.quarantine:
        quarantine(p.result, "quarantined by a rule", outcome.quarantine)


def _complete(p: _Pending) -> None:
    _here().deidentifier.finish(p.begun)
    _check_outcome(p)
    if p.result.quarantine:
        return
    ds, outcome, result = p.read.dataset, p.begun.outcome, p.result
    lost = [REQUIRED[t] for t in sorted(p.present) if t not in ds]
    if lost:
        return quarantine(result, "rules remove a required attribute",
                           f"the rules remove required attribute(s) {', '.join(lost)}")
    result.output = str(output_relpath(ds))
    try:
        staged, fast = write_temporary(ds, _here().setup.staging, p.read.source)
    except OSError as err:
        raise OutputFailure(f"cannot write to the output folder: {err.strerror or err}") from None
    result.staged = str(staged)
    if p.read.source is not None and not fast:
        result.routed = "written by the reference engine (character set or transfer syntax changed)"
    result.uid_map, result.patient_ids, result.issued = outcome.uid_map, outcome.patient_ids, outcome.issued
    result.review = outcome.reviews
    result.unknown_private = outcome.unknown_private
    result.action_counts = dict(Counter(change.action for change in outcome.changes))
    result.cleaned = dict(Counter(change.path.rsplit("/", 1)[-1] for change in outcome.changes
                                  if change.action == "clean"))


def _close(p: _Pending) -> FileResult:
    result = p.result
    result.warnings = sorted({audit.summarise_warning(w) for w in p.caught})
    if not result.quarantine and result.output and p.work is not None:
        result.audit = audit.file_line(result.input, result.output, p.work.outcome.changes, result.warnings)
    return result


def quarantine(result: FileResult, kind: str, reason: str) -> None:
    result.quarantine, result.quarantine_kind = reason, kind
