"""Fuzz at scale: `deidc apply` over thousands of mutated real DICOM files (a script that prints
figures, never asserts; the seeded, CI-sized version is tests/faults/test_fuzz.py).

The corpus is tests/faultkit's: real files with a planted PHI marker, broken by every
mutation it knows (bit flips, truncation at each kind of boundary, bad lengths and VRs, deep
nesting, 10 MB values, wrong file meta, random bytes, a decompression bomb, non-DICOM files).
For each ruleset it runs `deidc apply --workers N` once over the whole corpus and prints: inputs,
written, quarantined by reason, tracebacks, inputs not accounted for, quarantine rows that name no
input, internal errors given as reasons, released files that fail a full pydicom decode or
`dcmdump +E`, released files holding the marker (and those a clean reading of the mutated bytes
makes ambiguous), stray files, exit code, wall time and the peak memory of the run's process tree
(sampled from /proc ten times a second; the largest single process too). Then every heavy mutant
and `--timing-sample` others are run alone (`--workers 1`) and timed, less the time of a one-file
run on an unmutated control, and the slowest are listed (the journal cannot time files: workers
take files in batches).

    .venv/bin/python bench/fuzz.py                                # 3,000 files, both rulesets
    .venv/bin/python bench/fuzz.py --files 500 --rulesets tcia --workdir /tmp/fuzz --keep
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import faultkit as fc  # noqa: E402 — tests/ holds the shared corpus package

PROBLEMS = ("tracebacks", "missing quarantine.csv", "wrong exit code", "inputs not accounted for",
            "inputs quarantined twice", "quarantine rows naming no input", "internal errors as quarantine reasons",
            "released files pydicom cannot decode", "released files dcmdump +E rejects",
            "released files holding the marker", "temporary or stray files in the output", "valid files quarantined")


class TreeMemory:
    """Peak resident memory of a run's process tree (sum) and of its largest process."""

    def __init__(self) -> None:
        self.tree = self.single = 0

    def __call__(self, pid: int) -> None:
        sizes = [fc.rss(p) for p in (pid, *fc.descendants(pid))]
        self.tree = max(self.tree, sum(sizes))
        self.single = max(self.single, max(sizes, default=0))


def mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000, help="mutated files (the unmutated controls included)")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--rulesets", default="ps3.15-basic,tcia")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--heavy", type=int, default=3, help="files per heavy mutation (10 MB values, bomb, ...)")
    parser.add_argument("--ocr", action="store_true",
                        help="keep OT/US/SC modalities, so tcia.deid OCRs those images (slow)")
    parser.add_argument("--timing-sample", type=int, default=30,
                        help="light mutants timed alone (besides every heavy one); each run costs start-up time")
    parser.add_argument("--no-dcmdump", action="store_true")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per run before it counts as hung")
    parser.add_argument("--workdir", type=Path, help="where the corpus and outputs go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--examples", type=int, default=8, help="examples listed per kind of problem")
    args = parser.parse_args()

    console = Console(highlight=False, markup=False, width=200)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="deidc-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    started = time.monotonic()
    if corpus.with_suffix(".json").exists():
        mutants = fc.load_corpus(corpus)
        console.print(f"corpus: reusing {len(mutants)} files in {corpus}")
    else:
        mutants = fc.make_corpus(corpus, args.files, args.seed, heavy=args.heavy, ocr=args.ocr)
        console.print(f"corpus: {len(mutants)} files in {corpus} ({time.monotonic() - started:.0f} s to make)")
    kinds = Counter(m.mutation for m in mutants)
    console.print("mutations: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    console.print(f"corpus bytes: {mib(sum(m.size for m in mutants))}; load average "
                  f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    for ruleset in [r.strip() for r in args.rulesets.split(",") if r.strip()]:
        rules = fc.RULESETS / f"{ruleset}.deid"
        out = work / f"out-{ruleset}"
        shutil.rmtree(out, ignore_errors=True)
        memory = TreeMemory()
        run = fc.run_apply(rules, corpus, out, workers=args.workers, timeout=args.timeout, memory_soft_limit=None,
                           monitor=memory)
        checked = time.monotonic()
        findings = fc.check_run(corpus, out, mutants, run, ruleset, use_dcmdump=not args.no_dcmdump)
        check_seconds = time.monotonic() - checked

        table = Table(title=f"deidc apply {rules.name}, {len(mutants)} mutated files, --workers {args.workers}",
                      header_style="bold")
        table.add_column("figure")
        table.add_column("value", justify="right")
        table.add_row("inputs", str(findings.inputs))
        table.add_row("written", str(findings.released))
        table.add_row("quarantined", str(findings.quarantined))
        for kind, n in _quarantine_kinds(run.stdout):
            table.add_row(f"  {kind} (deidc's summary)", str(n))
        for reason, n in sorted(findings.reasons.items(), key=lambda kv: -kv[1])[:10]:
            table.add_row(f"    {reason}", str(n))
        if len(findings.reasons) > 10:
            table.add_row(f"    ... {len(findings.reasons) - 10} more reasons",
                          str(sum(sorted(findings.reasons.values(), reverse=True)[10:])))
        table.add_row("exit code", str(run.returncode) + (" (killed: timed out)" if run.timed_out else ""))
        table.add_row("unaccounted (inputs - written - quarantined)",
                      str(findings.inputs - findings.released - findings.quarantined))
        for kind in PROBLEMS:
            table.add_row(kind, str(len(findings.problems.get(kind, []))))
        table.add_row("released files holding the marker, ambiguous mutants (not counted above)",
                      str(len(findings.ambiguous_leaks)))
        table.add_row("wall time", f"{run.seconds:,.1f} s ({findings.inputs / run.seconds:,.1f} files/s)")
        table.add_row("peak memory, process tree (sum of RSS)", mib(memory.tree))
        table.add_row("peak memory, largest single process", mib(memory.single))
        table.add_row("checking the output (decode, dcmdump, marker)", f"{check_seconds:,.1f} s")
        console.print(table)
        for kind in PROBLEMS:
            if findings.problems.get(kind):
                console.print(findings.report(kind, args.examples), soft_wrap=True)
        for leak in findings.ambiguous_leaks[:args.examples]:
            console.print(f"ambiguous: {leak}", soft_wrap=True)

        # per-file time: each heavy mutant and a sample of the others alone (--workers 1), less
        # the time of the same one-file run on an unmutated control (start-up, compiling the rules)
        rng = random.Random(args.seed)
        heavy = [m for m in mutants if fc.BY_NAME[m.mutation].heavy]
        light = [m for m in mutants if not fc.BY_NAME[m.mutation].heavy and m.mutation != "none"]
        sample = heavy + rng.sample(light, min(args.timing_sample, len(light)))
        control = next(m for m in mutants if m.mutation == "none")
        timing = work / f"timing-{ruleset}"

        def alone(mutant: fc.Mutant, memory: TreeMemory, timing: Path = timing,
                  rules: Path = rules) -> tuple[fc.ApplyRun, Path]:
            shutil.rmtree(timing, ignore_errors=True)
            (timing / "in").mkdir(parents=True)
            os.link(corpus / mutant.file, timing / "in" / Path(mutant.file).name)
            run = fc.run_apply(rules, timing / "in", timing / "out", workers=1, timeout=args.timeout,
                               memory_soft_limit=None, monitor=memory)
            return run, timing / "out"

        baseline = sorted(alone(control, TreeMemory())[0].seconds for _ in range(3))[1]
        timed = []
        for mutant in sample:
            memory = TreeMemory()
            run, timed_out = alone(mutant, memory)
            rows = fc.read_quarantine(timed_out) or []
            outcome = "written" if not rows else fc.reason_kind(rows[0][1])[:70]
            timed.append((run.seconds - baseline, memory.single, mutant, outcome))
        shutil.rmtree(timing, ignore_errors=True)
        table = Table(title=f"slowest files: each alone with --workers 1 ({len(sample)} files, {len(heavy)} of them "
                            f"heavy), less a one-file run on a control ({baseline:.1f} s)", header_style="bold")
        for column in ("seconds", "peak memory", "mutation", "file", "outcome"):
            table.add_column(column, justify="right" if column in ("seconds", "peak memory") else "left")
        for seconds, peak, mutant, outcome in sorted(timed, key=lambda t: -t[0])[:args.examples + 2]:
            table.add_row(f"{seconds:.2f}", mib(peak), mutant.mutation, mutant.file, outcome)
        console.print(table)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)

    console.print(f"total wall time {time.monotonic() - started:,.0f} s; work folder {work}"
                  + ("" if args.keep or args.workdir else " (removed)"))
    if not args.keep and not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


def _quarantine_kinds(stdout: str) -> list[tuple[str, int]]:
    """The quarantine kinds of deidc's own summary table (the indented rows under "quarantined")."""
    kinds, inside = [], False
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) != 2:
            continue
        if cells[0] == "quarantined":
            inside = True
        elif inside and line.startswith("│   ") and cells[1].isdigit():
            kinds.append((cells[0], int(cells[1])))
        elif inside:
            break
    return kinds


if __name__ == "__main__":
    main()
