"""A supervised pool of worker processes: tasks in, results out as each finishes, and every way a
worker can fail turned into a result instead of a hang.

In: a function to run on each task's payload, a worker initialiser, a worker count, and tasks
(an id, a payload, a deadline in seconds), submitted at any time. Out: `(id, value)` for a task that returned, or
`(id, WorkerLost(reason))` for one whose worker died (SIGKILL, the OOM killer, a crash in C code)
or overran its deadline (the worker is then killed). A lost worker is replaced, so the pool goes on.

Why not multiprocessing.Pool: when one of its workers is killed the parent waits for that task
forever. concurrent.futures notices, but breaks the whole pool and cannot say which task killed
it, nor stop one that hangs. Here each worker has its own pipe and runs its tasks in the order
they were sent, so the parent always knows which task a dead or late worker was running.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any


@dataclass(frozen=True)
class WorkerLost:
    """The task's worker died or ran past the deadline (`timed_out`); `reason` says which."""
    reason: str
    timed_out: bool = False


@dataclass
class _Slot:
    process: Any
    conn: Connection
    tasks: deque = field(default_factory=deque)  # (id, payload, seconds) sent, in order; the head runs
    deadline: float = 0.0  # of the head task, on the monotonic clock


DEPTH = 2  # tasks sent to a worker at once: the next one waits in its pipe while the parent settles


def _context():
    # fork: workers inherit the imported modules and the Plan instead of re-importing them. The
    # CLI keeps the parent single-threaded (no auto-refreshing progress thread) so fork is safe.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _serve(conn: Connection, function: Callable[[Any], Any], initializer: Callable[..., None] | None,
           initargs: tuple) -> None:
    """A worker's life: initialise once, then answer one task at a time until the pipe closes."""
    # Ctrl-C reaches the whole foreground process group: the parent decides how the run stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            payload = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(function(payload))


class SupervisedPool:
    """`workers` processes running `function`; use as a context manager."""

    def __init__(self, workers: int, function: Callable[[Any], Any],
                 initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> None:
        self._function, self._initializer, self._initargs = function, initializer, initargs
        self._queue: deque[tuple[Any, Any, float]] = deque()
        self._slots = [self._start() for _ in range(max(1, workers))]

    def __enter__(self) -> SupervisedPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> _Slot:
        parent, child = _context().Pipe()
        process = _context().Process(target=_serve, args=(child, self._function, self._initializer, self._initargs),
                                     daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self._slots]

    def submit(self, task_id: Any, payload: Any, seconds: float, first: bool = False) -> None:
        """Queue a task with its deadline; `first` puts it before the tasks already queued."""
        (self._queue.appendleft if first else self._queue.append)((task_id, payload, seconds))

    def results(self) -> Iterator[tuple[Any, Any]]:
        """(id, result or WorkerLost) in completion order, until every queued task is done; tasks
        may be submitted while this runs. A worker holds up to DEPTH tasks; only the one it runs
        can be lost with it, the others go back to the head of the queue."""
        while self._queue or any(slot.tasks for slot in self._slots):
            for slot in self._slots:
                while len(slot.tasks) < DEPTH and self._queue:
                    task = self._queue.popleft()
                    if not slot.tasks:
                        slot.deadline = time.monotonic() + task[2]
                    slot.tasks.append(task)
                    try:
                        slot.conn.send(task[1])
                    except OSError:
                        break  # the worker is gone: its sentinel says so below
            yield from self._collect()

    def _collect(self) -> Iterator[tuple[Any, Any]]:
        busy = [slot for slot in self._slots if slot.tasks]
        timeout = max(0.0, min(slot.deadline for slot in busy) - time.monotonic())
        ready = set(wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=timeout + 0.01))
        for i, slot in enumerate(self._slots):
            if not slot.tasks:
                continue
            if slot.conn in ready:
                try:
                    result = slot.conn.recv()
                except (EOFError, OSError):
                    pass  # died while answering: below
                else:
                    task_id = slot.tasks.popleft()[0]
                    if slot.tasks:
                        slot.deadline = time.monotonic() + slot.tasks[0][2]
                    yield task_id, result
                    continue
            if slot.conn in ready or slot.process.sentinel in ready:
                slot.process.join(1)
                code = slot.process.exitcode
                why = (f"killed by signal {-code}" if code is not None and code < 0
                       else f"exited with status {code}")
                yield self._lose(i), WorkerLost(f"the worker process died ({why}; out of memory?)")
            elif time.monotonic() > slot.deadline:
                yield self._lose(i), WorkerLost("took longer than the time limit", timed_out=True)

    def _lose(self, i: int) -> Any:
        """Replace worker `i`; its head task is lost (its id returned), the others are queued again."""
        slot = self._slots[i]
        lost, *waiting = slot.tasks
        self._queue.extendleft(reversed(waiting))
        self._replace(i)
        return lost[0]

    def _replace(self, i: int) -> None:
        self._stop(self._slots[i])
        self._slots[i] = self._start()

    @staticmethod
    def _stop(slot: _Slot) -> None:
        if slot.process.is_alive():
            os.kill(slot.process.pid, signal.SIGKILL)
        slot.process.join()
        slot.conn.close()

    def close(self) -> None:
        """Stop every worker now (finished work is already returned)."""
        for slot in self._slots:
            self._stop(slot)
