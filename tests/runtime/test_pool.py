"""The supervised pool: results as tasks finish, and a dead or late worker turned into a result."""
from __future__ import annotations

import os
import signal
import time

from deidc.runtime.batch.pool import SupervisedPool, WorkerLost


def _task(payload):
    kind, value = payload
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "sleep":
        time.sleep(value)
    if kind == "exit":
        os._exit(value)
    return value * 2


def test_results_come_back_for_every_task():
    with SupervisedPool(2, _task) as pool:
        for i in range(10):
            pool.submit(i, ("ok", i), 30)
        assert dict(pool.results()) == {i: i * 2 for i in range(10)}


def test_a_killed_worker_becomes_a_result_and_is_replaced():
    with SupervisedPool(2, _task) as pool:
        pool.submit("a", ("ok", 1), 30)
        pool.submit("killer", ("kill", 0), 30)
        pool.submit("b", ("ok", 2), 30)
        results = dict(pool.results())
        assert results["a"] == 2 and results["b"] == 4
        lost = results["killer"]
        assert isinstance(lost, WorkerLost) and not lost.timed_out
        assert "signal 9" in lost.reason
        # the pool goes on with a new worker
        pool.submit("c", ("ok", 5), 30)
        assert dict(pool.results()) == {"c": 10}


def test_a_worker_that_exits_is_reported_with_its_status():
    with SupervisedPool(1, _task) as pool:
        pool.submit("x", ("exit", 7), 30)
        [(task, lost)] = list(pool.results())
        assert task == "x" and isinstance(lost, WorkerLost) and "status 7" in lost.reason


def test_a_late_worker_is_stopped_at_its_deadline():
    with SupervisedPool(2, _task) as pool:
        started = time.monotonic()
        pool.submit("slow", ("sleep", 60), 0.5)
        pool.submit("fast", ("ok", 3), 30)
        results = dict(pool.results())
        assert time.monotonic() - started < 20
        assert results["fast"] == 6
        assert isinstance(results["slow"], WorkerLost) and results["slow"].timed_out


def test_tasks_submitted_while_results_are_read_are_run():
    with SupervisedPool(2, _task) as pool:
        pool.submit(0, ("ok", 0), 30)
        seen = []
        for task, value in pool.results():
            seen.append((task, value))
            if task < 5:
                pool.submit(task + 1, ("ok", task + 1), 30, first=True)
        assert seen == [(i, i * 2) for i in range(6)]


def test_close_stops_every_worker():
    pool = SupervisedPool(2, _task)
    pids = pool.pids()
    pool.close()
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        # a zombie reaped by join() no longer exists; anything else is a leak
        raise AssertionError(f"worker {pid} still running")


def test_only_the_running_task_is_lost_with_its_worker():
    """A worker holds the next task in its pipe while it runs one: that task is not to blame."""
    with SupervisedPool(1, _task) as pool:
        pool.submit("killer", ("kill", 0), 30)
        pool.submit("waiting", ("ok", 4), 30)
        pool.submit("last", ("ok", 5), 30)
        results = dict(pool.results())
        assert isinstance(results["killer"], WorkerLost)
        assert results["waiting"] == 8 and results["last"] == 10


def test_the_deadline_counts_from_when_a_task_starts_running():
    with SupervisedPool(1, _task) as pool:
        pool.submit("first", ("sleep", 1.0), 30)
        pool.submit("second", ("ok", 1), 0.8)  # waits about 1 s behind the first: not late
        assert dict(pool.results()) == {"first": 2 * 1.0, "second": 2}
