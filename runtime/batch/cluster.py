"""`deidc apply --engine dask`: the batch's two passes over a file list, run on a Dask cluster.

In: the input paths and the `worker.WorkerSetup` of the run (Plan, keys, folders, options; no
shared PHI yet), a worker count and, optionally, the address of a running Dask scheduler
(tcp://host:port or tls://host:port).
Out: one `FileResult` per input, in input order, exactly as the local engine yields them; the
parent (`run_batch`) still publishes the staged files and writes mappings, audit and quarantine.

Pass 1 (`gather_phi`) and pass 2 (`process_files`) both run on the workers, in chunks of paths; the
client merges pass 1 into the per-patient PHI just as `patient_phi` does. Workers share no state
(keyed pseudonyms make each file's output independent of where it ran), so the output tree is
byte-identical to a local run. A chunk that fails (an exception, or a worker killed mid-chunk) is
retried file by file, and a file that still fails is quarantined: fail closed, the batch goes on.
Losing the scheduler itself stops the run with `ClusterUnavailable` instead of blaming every file.

Assumes a filesystem shared by client and workers: workers read the inputs and write staged files
under OUT/.deidc-run/staging by path (both made absolute here). Workers need this version of deidc
installed, and should run one thread each (`dask worker --nthreads 1`): the worker state is per
process (`worker.configure`), so a worker's threads take turns. Start them with the Dask config
`distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null`, as `_connect` does for its
LocalCluster. The keys travel to the workers inside the setup, so reach a remote scheduler over
tls:// on any network you do not trust.

Why Dask rather than Ray: Dask and distributed are pure-Python wheels; a LocalCluster needs no
extra services; its scheduler runs plain Python callables over plain file lists; and
dask-jobqueue / dask-kubernetes reach the HPC (SLURM, PBS, ...) and Kubernetes clusters hospitals
already run. Ray brings large binary wheels and its own object store and GCS services.
"""
from __future__ import annotations

import os
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from dataclasses import replace
from pathlib import Path
from typing import Any

from deidc.runtime.audit import summarise_error
from deidc.runtime.batch import folder as batch
from deidc.runtime.batch import worker
from deidc.runtime.batch.worker import FileResult, WorkerSetup

# distributed is imported inside the functions that need it: importing this module stays cheap

CHUNK = 16  # paths per task, as batch.BATCH: amortises scheduler overhead and batch cleaning
WINDOW = 4  # chunks in flight per worker thread: keeps workers busy, client memory flat
WAIT_FOR_WORKERS = 120  # seconds a running scheduler may take to have a worker


class ClusterUnavailable(RuntimeError):
    """The scheduler could not be reached, has no worker, or was lost during the run."""


# ---- worker side -----------------------------------------------------------------------------

_LOCK = threading.Lock()
_READY: str | None = None  # token of the setup this worker process is initialised with


def _run_chunk(phase: str, token: str, setup: WorkerSetup, paths: list[str]) -> list[Any]:
    """One task: configure the worker process once per setup, then run the phase on each path."""
    global _READY
    # the worker's setup is per process; a worker with several threads runs one chunk at a time
    with _LOCK:
        if _READY != token:
            worker.configure(setup)  # pass 1 too: it reads files as pass 2 will (same options)
            _READY = token
        if phase == "phi":
            return [worker.gather_phi(path) for path in paths]
        return worker.process_files(paths)  # a chunk is de-identified as the local engine's batches are


# ---- client side -----------------------------------------------------------------------------


def cluster_results(paths: list[str], setup: WorkerSetup, workers: int, address: str | None) -> Iterator[FileResult]:
    """Pass 1 and pass 2 of the batch on a Dask cluster; FileResults in input order."""
    # absolute paths: a worker's working directory is not the client's
    paths = [os.path.abspath(p) for p in paths]
    root = os.path.abspath(setup.input_root)
    preview_dir = setup.preview_dir
    setup = replace(setup, input_root=Path(root), staging=Path(os.path.abspath(setup.staging)),
                    preview_dir=Path(os.path.abspath(preview_dir)) if preview_dir else None, shared_phi={})
    client, cluster = _connect(address, workers)
    try:
        slots = max(1, sum(client.nthreads().values())) if address else workers
        run = _Runner(client, slots)
        if setup.plan.collects:
            found = run.ordered("phi", setup, paths, lambda path, err: None)  # None: pass 2 says why
            setup = replace(setup, shared_phi=batch.merge_phi(found))
        yield from run.ordered("file", setup, paths, lambda path, err: _failed(path, root, err))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(address: str | None, workers: int):
    """(client, the LocalCluster started for this run or None) for a scheduler address or none."""
    import dask
    from distributed import Client, LocalCluster

    if address is None:
        # Workers get MALLOC_TRIM_THRESHOLD_=65536 by default, which also freezes glibc's mmap
        # threshold: every pixel array becomes a fresh, page-faulted mmap (OCR-heavy runs took
        # 1.6x as long). No dashboard; the scheduler's health/info HTTP server on loopback and a
        # free port, not on the default 8787 (a second run would collide, and warn).
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        try:
            return Client(cluster), cluster
        except BaseException:
            cluster.close()
            raise
    try:
        client = Client(address)
    except OSError as err:
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address}: {err}") from None
    try:  # a scheduler may be up before its workers are
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
    except TimeoutError:
        client.close()
        raise ClusterUnavailable(f"the Dask scheduler at {address} has no worker after {WAIT_FOR_WORKERS} s") from None
    return client, None


class _Runner:
    """Submits chunks with a bounded window of futures and yields their results in input order.

    At most `window` chunks run or wait on the cluster; finished chunks behind a slow one are held
    (at most `held` chunks in all) so the workers never idle waiting for the head of the line."""

    def __init__(self, client, slots: int) -> None:
        self.client = client
        self.slots = slots
        self.window = WINDOW * slots
        self.held = 4 * self.window

    def ordered(self, phase: str, setup: WorkerSetup, paths: list[str],
                on_error: Callable[[str, BaseException], Any]) -> Iterator[Any]:
        from distributed import wait

        # sent once to every worker; hash=False: no need to tokenise a large Plan
        [shared] = self.client.scatter([setup], broadcast=True, hash=False)
        token = f"{phase}-{uuid.uuid4().hex}"
        pending: deque[tuple[list[str], Any]] = deque()  # (paths, future) in input order

        def collect() -> Iterable[Any]:  # the head of the line, in input order
            return self._collect(*pending.popleft(), phase, token, shared, on_error)

        try:
            for part in _chunks(paths, self.slots):
                while len(pending) >= self.held or sum(not f.done() for _, f in pending) >= self.window:
                    if pending[0][1].done():
                        yield from collect()
                    else:
                        wait([f for _, f in pending if not f.done()], return_when="FIRST_COMPLETED")
                pending.append((part, self._submit(phase, token, shared, part)))
                while pending and pending[0][1].done():
                    yield from collect()
            while pending:
                yield from collect()
        finally:
            for _, future in pending:
                future.cancel()
            shared.release()

    def _submit(self, phase: str, token: str, shared, part: list[str]):
        return self.client.submit(_run_chunk, phase, token, shared, part, pure=False)

    def _collect(self, part: list[str], future, phase: str, token: str, shared,
                 on_error: Callable[[str, BaseException], Any]) -> Iterable[Any]:
        try:
            return future.result()
        except CancelledError as err:  # the scheduler went away: no file is to blame
            raise ClusterUnavailable(f"lost the Dask cluster during the run: {err}") from None
        except Exception:  # noqa: BLE001 — find the file that failed: retry one path per task
            singles = [self._submit(phase, token, shared, [path]) for path in part]
            return [_one(f, path, on_error) for path, f in zip(part, singles, strict=True)]
        finally:
            future.release()


def _chunks(paths: list[str], slots: int) -> Iterator[list[str]]:
    """Chunks of at most CHUNK paths that shrink towards the end, so the last tasks are short
    and no worker finishes the run alone on a full chunk of slow (OCR) files."""
    start = 0
    while start < len(paths):
        size = max(1, min(CHUNK, (len(paths) - start) // (slots * WINDOW)))
        yield paths[start:start + size]
        start += size


def _one(future, path: str, on_error: Callable[[str, BaseException], Any]) -> Any:
    try:
        return future.result()[0]
    except CancelledError as err:
        raise ClusterUnavailable(f"lost the Dask cluster during the run: {err}") from None
    except Exception as err:  # noqa: BLE001 — KilledWorker, or an error outside process_files
        return on_error(path, err)
    finally:
        future.release()


def _failed(path: str, root: str, err: BaseException) -> FileResult:
    """The quarantine row for a file whose task failed on the cluster (fail closed)."""
    rel = os.path.relpath(path, root) if path != root else Path(path).name
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0
    return FileResult(rel, size, quarantine=f"failed on a cluster worker ({summarise_error(err)})",
                      quarantine_kind="failed on a cluster worker")
