"""Running the real `deidc apply` and watching its processes: the entry point and environment, the
command line, a run with a timeout and a memory limit, digests of an output tree, and /proc helpers
(workers of a run, their memory, the run journal's progress, whether a process group is gone).

In: a rules file, an input folder, an output folder and extra options (or a pid / process group).
Out: `run_apply` -> an `ApplyRun` (exit code, stdout, stderr, seconds, timed out); `tree_digests`
-> {relative path: sha256}; `tree_difference` -> "" or what differs; `settled` -> inputs the
journal says are settled; `descendants`/`pool_workers` -> pids; `rss` -> bytes; `wait_gone` -> bool.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from faultkit.sources import REPO

# ---- running the CLI -----------------------------------------------------------------------------

def deidc_command() -> str:
    """The `deidc` entry point next to the interpreter running the tests."""
    import sys
    return str(Path(sys.executable).parent / "deidc")


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DEIDC_KEY"}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb", DEIDC_CACHE="off")
    return env


def tree_digests(out: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under `out`."""
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def tree_difference(reference: dict[str, str], actual: dict[str, str], limit: int = 15) -> str:
    missing = sorted(set(reference) - set(actual))
    extra = sorted(set(actual) - set(reference))
    changed = sorted(k for k in set(reference) & set(actual) if reference[k] != actual[k])
    if not (missing or extra or changed):
        return ""
    parts = []
    for title, items in (("missing", missing), ("extra", extra), ("different", changed)):
        if items:
            parts.append(f"{len(items)} {title}: " + ", ".join(items[:limit]) + (" ..." if len(items) > limit else ""))
    return "; ".join(parts)


@dataclass
class ApplyRun:
    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool


def apply_command(rules: Path, source: Path, out: Path, *extra: str, workers: int = 2) -> list[str]:
    return [deidc_command(), "apply", str(rules), str(source), "-o", str(out), "--insecure-demo-key",
            "--no-progress", "--workers", str(workers), *extra]


def run_apply(rules: Path, source: Path, out: Path, *extra: str, workers: int = 2, timeout: float = 600,
              memory_soft_limit: int | None = 4 << 30, cwd: Path | None = None,
              monitor: Callable[[int], None] | None = None) -> ApplyRun:
    """`deidc apply RULES SOURCE -o OUT --insecure-demo-key --no-progress --workers N EXTRA...` in
    its own session; on timeout the whole process group is killed. `memory_soft_limit`: a soft
    RLIMIT_DATA for every process of the run, so a tool without its own bound cannot exhaust a
    shared machine (a soft limit: deidc may raise it for its own `--max-memory`). `monitor` is
    called with the run's pid about ten times a second while it runs."""
    import resource
    import signal
    import tempfile
    import time

    def limit() -> None:
        if memory_soft_limit is not None:
            _, hard = resource.getrlimit(resource.RLIMIT_DATA)
            soft = memory_soft_limit if hard == resource.RLIM_INFINITY else min(memory_soft_limit, hard)
            resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))

    started = time.monotonic()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(apply_command(rules, source, out, *extra, workers=workers), stdout=stdout,
                                   stderr=stderr, env=cli_env(), cwd=cwd or REPO, start_new_session=True,
                                   preexec_fn=limit)
        timed_out = False
        while process.poll() is None:
            if monitor is not None:
                monitor(process.pid)
            if time.monotonic() - started > timeout:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                timed_out = True
                break
            time.sleep(0.1)
        seconds = time.monotonic() - started
        stdout.seek(0)
        stderr.seek(0)
        return ApplyRun(None if timed_out else process.returncode, stdout.read().decode("utf-8", "replace"),
                        stderr.read().decode("utf-8", "replace"), seconds, timed_out)


# ---- processes of a run --------------------------------------------------------------------------

JOURNAL = Path(".deidc-run") / "journal.jsonl"


def settled(out: Path) -> int:
    """Inputs the run journal says are settled (its first line is a header); -1 before it exists."""
    try:
        return (out / JOURNAL).read_bytes().count(b"\n") - 1
    except OSError:
        return -1


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc/<pid>/task/*/children), depth first."""
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in children.read_text().split()]
        except OSError:
            continue
    return [d for child in found for d in (child, *descendants(child))]


def pool_workers(pid: int) -> list[int]:
    """The worker processes of a run: its descendants that are not multiprocessing helpers."""
    workers = []
    for child in descendants(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"resource_tracker" not in command and b"forkserver" not in command:
            workers.append(child)
    return workers


def rss(pid: int) -> int:
    """Resident memory of one process in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pgid: int, timeout: float = 10) -> bool:
    import time
    deadline = time.monotonic() + timeout
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
