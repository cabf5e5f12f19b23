"""Kill and resume at scale: `deidc apply` on 1,000+ files killed at several points, then resumed,
compared file by file (sha256) with an uninterrupted run (a script that prints, never asserts;
the CI-sized version is tests/faults/test_kill_resume.py).

The corpus is tests/faultkit's `valid_corpus` (copies of real files as distinct instances,
patients with several studies, a few broken files that are quarantined). One uninterrupted run is
the reference. Then, each in a fresh output folder: SIGKILL of the whole process group when the
run journal says a given share of the inputs is settled, then `--resume`; SIGKILL of one pool
worker (the run must finish by itself); SIGTERM to the main process and SIGINT to the group
(exit 130), then `--resume`; and one run killed twice (the resume killed again). For each it
prints the settled count at the kill, the exit codes, how many files the two trees hold, how many
differ (relative path and sha256 of every file: DICOM files, mappings/*.csv, quarantine.csv,
audit.jsonl), and the seconds.

    .venv/bin/python bench/kill_resume.py                          # 1,000 files, ps3.15-basic
    .venv/bin/python bench/kill_resume.py --files 2000 --rules rulesets/tcia.deid --points 0.1,0.5,0.9
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import faultkit as fc  # noqa: E402 — tests/ holds the shared corpus package


class Scenario:
    def __init__(self, name: str) -> None:
        self.name, self.at_kill, self.first_exit, self.resume_exit = name, "-", "-", "-"
        self.compared, self.differing, self.seconds, self.note = 0, "-", 0.0, ""


def start(rules: Path, corpus: Path, out: Path, workers: int, *extra: str) -> subprocess.Popen:
    """The run in its own session; its stderr goes to `stderr.log` next to OUT."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with (out.parent / "stderr.log").open("ab") as stderr:
        return subprocess.Popen(fc.apply_command(rules, corpus, out, *extra, workers=workers),
                                stdout=subprocess.DEVNULL, stderr=stderr, env=fc.cli_env(), cwd=fc.REPO,
                                start_new_session=True)


def wait_settled(process: subprocess.Popen, out: Path, count: int, timeout: float) -> bool:
    """True once the journal holds `count` settled inputs; False if the run ended or timed out first."""
    deadline = time.monotonic() + timeout
    while fc.settled(out) < count:
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def stop(process: subprocess.Popen, how: str) -> int | None:
    if how == "group":
        os.killpg(process.pid, signal.SIGKILL)
    elif how == "term":
        os.kill(process.pid, signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)
    try:
        code = process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return None
    fc.wait_gone(process.pid)
    return code


def compare(reference: dict[str, str], out: Path, scenario: Scenario) -> None:
    digests = fc.tree_digests(out)
    scenario.compared = len(set(reference) | set(digests))
    difference = fc.tree_difference(reference, digests, limit=3)
    scenario.differing = "0 (identical)" if not difference else difference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rules", type=Path, default=fc.RULESETS / "ps3.15-basic.deid")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--points", default="0,0.01,0.25,0.5,0.75,0.95",
                        help="shares of the inputs settled when the group is killed")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder, removed at the end")
    args = parser.parse_args()
    rules = args.rules.resolve()

    console = Console(highlight=False, markup=False, width=200)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="deidc-kill-"))
    corpus = work / "corpus"
    if not corpus.exists():
        fc.valid_corpus(corpus, args.files, args.seed)
    inputs = sum(1 for p in corpus.rglob("*") if p.is_file())
    console.print(f"corpus: {inputs} files in {corpus}; rules {rules.name}; --workers {args.workers}; "
                  f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    reference_out = work / "reference"
    shutil.rmtree(reference_out, ignore_errors=True)
    reference_run = fc.run_apply(rules, corpus, reference_out, workers=args.workers, timeout=args.timeout,
                                 memory_soft_limit=None)
    reference = fc.tree_digests(reference_out)
    console.print(f"uninterrupted run: exit {reference_run.returncode}, {reference_run.seconds:.1f} s, "
                  f"{len(reference)} files in the output tree")

    scenarios: list[Scenario] = []

    def interrupted(name: str, share: float, how: str, twice: bool = False) -> None:
        scenario = Scenario(name)
        scenarios.append(scenario)
        out = work / "run" / "out"
        shutil.rmtree(out.parent, ignore_errors=True)
        began = time.monotonic()
        process = start(rules, corpus, out, args.workers)
        if not wait_settled(process, out, int(share * inputs), args.timeout):
            scenario.note = f"the run ended (exit {process.poll()}) before the kill point"
            stop(process, "group")
        else:
            scenario.at_kill = str(fc.settled(out))
            scenario.first_exit = str(stop(process, how))
            if twice:
                process = start(rules, corpus, out, args.workers, "--resume")
                if wait_settled(process, out, int(0.7 * inputs), args.timeout):
                    scenario.at_kill += f", then {fc.settled(out)}"
                    stop(process, "group")
                else:
                    scenario.note = "the first resume ended before the second kill"
                    process.wait()
        resumed = fc.run_apply(rules, corpus, out, "--resume", workers=args.workers, timeout=args.timeout,
                               memory_soft_limit=None)
        scenario.resume_exit = str(resumed.returncode)
        if "Traceback" in (out.parent / "stderr.log").read_text(errors="replace") + resumed.stderr:
            scenario.note += " a traceback in stderr"
        compare(reference, out, scenario)
        scenario.seconds = time.monotonic() - began

    for share in [float(p) for p in args.points.split(",") if p.strip()]:
        interrupted(f"kill -9 of the group at {share:.0%}", share, "group")
    interrupted("kill -9 at 30%, resume killed at 70%", 0.3, "group", twice=True)
    interrupted("SIGTERM to the main process at 40%", 0.4, "term")
    interrupted("SIGINT to the group (Ctrl-C) at 60%", 0.6, "int")

    scenario = Scenario("kill -9 of one pool worker at 30%")
    scenarios.append(scenario)
    out = work / "run" / "out"
    shutil.rmtree(out.parent, ignore_errors=True)
    began = time.monotonic()
    process = start(rules, corpus, out, args.workers)
    if wait_settled(process, out, int(0.3 * inputs), args.timeout) and fc.pool_workers(process.pid):
        scenario.at_kill = str(fc.settled(out))
        os.kill(fc.pool_workers(process.pid)[0], signal.SIGKILL)
        try:
            scenario.first_exit = str(process.wait(timeout=args.timeout))
        except subprocess.TimeoutExpired:
            scenario.first_exit = f"hung (killed after {args.timeout:.0f} s)"
            stop(process, "group")
        compare(reference, out, scenario)
    else:
        scenario.note = "no worker found, or the run ended first"
        stop(process, "group")
    scenario.seconds = time.monotonic() - began

    table = Table(title=f"kill and resume, {inputs} files, {rules.name}", header_style="bold")
    for column in ("scenario", "settled at kill", "exit (interrupted)", "exit (resume)", "files compared",
                   "differing from the uninterrupted run", "seconds", "note"):
        table.add_column(column)
    for s in scenarios:
        table.add_row(s.name, s.at_kill, s.first_exit, s.resume_exit, str(s.compared), s.differing,
                      f"{s.seconds:.1f}", s.note)
    console.print(table)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
