"""Throughput benchmark: deidc against two floors and peer de-identification tools, one run.

On one corpus of synthetic 512x512 CT files with ~35 elements of fake PHI (bench/corpus.py),
each tool runs as its own child process, single process: deidc's fast and reference engines
(`--codec`, skipped while `deidc apply` lacks it), deidc fast with 2 workers (its wall-clock
speed-up over 1 worker, target >= 1.8x), a pydicom read+write floor, a raw byte-copy floor,
and the peers dicognito, dicom-anonymizer, deid (default recipe), idiscore, dcmanon and
gdcmanon (--dumb) where installed. Per tool: CPU ms/file (user+sys), files/s (wall, including
interpreter start-up), peak RSS, CPU ratios to deidc fast and to the pydicom floor, and the
leftover PHI found in its outputs (bench/phi_check.py; the raw-copy floor must leak in every
file, which proves the check works).

    make bench                                   # own venv with the peers, then this script
    make bench BENCH_ARGS="--corpus /tmp/ct2000" # reuse a corpus (generated there if empty)
    .venv/bin/python bench/throughput.py --files 100 --corpus /tmp/ct100   # peers: not installed
    .venv-bench/bin/python bench/throughput.py --corpus /tmp/ct2000 --only deidc-fast,dcmanon --json out.json
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import pydicom
from corpus import build_corpus
from peers import ALL_TOOLS, REPO, all_tools
from phi_check import pixel_index
from rich.console import Console
from rich.table import Table
from runner import Row, run_tool

console = Console(width=max(Console().width, 190))


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000, help="corpus size (default 2000)")
    ap.add_argument("--corpus", type=Path, help="corpus dir, reused if it holds --files .dcm files")
    ap.add_argument("--rules", type=Path, default=REPO / "rulesets" / "tcia.deid", help="deidc ruleset")
    ap.add_argument("--workdir", type=Path, help="where temp corpus/outputs go (default: system temp)")
    ap.add_argument("--only", help=f"comma-separated subset of: {','.join(ALL_TOOLS)}")
    ap.add_argument("--peer-files", type=int, help="run the Python peers on N files spread over the corpus "
                    "(slow peers; their start-up is then spread over fewer files)")
    ap.add_argument("--venvs", type=Path, default=REPO / "bench" / ".venvs",
                    help="peers with pins that conflict with deidc's live in VENVS/<tool> (make bench)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool, best wall clock kept (default 1)")
    ap.add_argument("--json", type=Path, help="save the figures here")
    args = ap.parse_args()
    args.only = [t.strip() for t in args.only.split(",")] if args.only else []
    unknown = sorted(set(args.only) - set(ALL_TOOLS))
    if unknown:
        ap.error(f"--only: unknown tool(s) {', '.join(unknown)}; choose from {', '.join(ALL_TOOLS)}")
    return args


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def ratio(row: Row, base: Row | None) -> str:
    """row's CPU ms/file over base's (2.00x = twice the CPU per file)."""
    mine, theirs = row.cpu_ms_per_file, base.cpu_ms_per_file if base else None
    return "-" if mine is None or not theirs else f"{mine / theirs:.2f}x"


def phi_cell(row: Row) -> str:
    if row.leak is None:
        return "-"
    style = "green" if row.leak.leaking_files == 0 else "red"
    return f"[{style}]{row.leak.leaking_files} / {row.leak.values}[/]"


def find(rows: list[Row], name: str) -> Row | None:
    return next((r for r in rows if r.tool == name and r.cpu_s is not None), None)


def render(rows: list[Row], n_files: int) -> Table:
    """The results table."""
    base, floor = find(rows, "deidc-fast"), find(rows, "floor-pydicom")
    table = Table(title=f"{n_files} files, each tool one child process; CPU = user+sys; "
                        "leftover PHI = files with planted values left / (file, value) pairs found")
    for col in ("tool", "files out", "CPU ms/file", "files/s", "peak RSS MB", "vs deidc fast (CPU)",
                "vs pydicom floor (CPU)", "leftover PHI (files / values)", "notes"):
        table.add_column(col, justify="left" if col in ("tool", "notes") else "right",
                         no_wrap=col != "notes", overflow="fold")
    for row in rows:
        notes = "; ".join(([f"[red]{row.error}[/]"] if row.error else []) + row.notes)
        files_out = "-" if row.files_out is None else f"{row.files_out} / {row.files_in}"
        table.add_row(row.tool, files_out, fmt(row.cpu_ms_per_file, ".1f"), fmt(row.files_per_s, ".1f"),
                      fmt(row.rss_mb, ".0f"), ratio(row, base), ratio(row, floor), phi_cell(row), notes)
    return table


def versions(rows: list[Row]) -> dict[str, str]:
    """Python, pydicom and every tool version seen."""
    found = {"Python": sys.version.split()[0], "pydicom": pydicom.__version__}
    for row in rows:
        name = "deidc" if row.tool.startswith("deidc") else row.tool
        if row.version and not name.startswith("floor"):
            found.setdefault(name, row.version)
        elif row.error.startswith("not installed"):
            found.setdefault(name, "not installed")
    return found


def speedup(rows: list[Row]) -> float | None:
    """Wall-clock speed-up of deidc fast with 2 workers over 1 worker."""
    one, two = find(rows, "deidc-fast"), find(rows, "deidc-fast-w2")
    return one.wall_s / two.wall_s if one and two and one.wall_s and two.wall_s else None


def checker_ok(rows: list[Row]) -> bool | None:
    """The raw-copy floor must leak in every file it was given: else the PHI check is broken."""
    raw = find(rows, "floor-raw")
    if raw is None or raw.leak is None:
        return None
    return raw.leak.files_out == raw.files_in and raw.leak.leaking_files == raw.files_in


def report(rows: list[Row], head: dict[str, object]) -> None:
    """Print the header, table and verdict lines."""
    head["versions"] = versions(rows)
    console.print(f"[bold]deidc throughput[/] | {head['files']} files, {head['mb']:.0f} MB | CPUs {head['cpus']} | "
                  f"load avg before {head['load_before']}, after {head['load_after']}", highlight=False)
    console.print("versions: " + ", ".join(f"{k} {v}" for k, v in head["versions"].items()), highlight=False)
    console.print(render(rows, int(head["files"])))
    busy = max(float(str(head[k]).split()[0]) for k in ("load_before", "load_after"))
    if busy > 0.5 * int(str(head["cpus"])):
        console.print(f"[yellow]warning: 1-min load average reached {busy:.2f} on {head['cpus']} CPUs: other work "
                      "competed, so wall-clock figures (files/s, the 2-worker speed-up) understate; CPU ms/file "
                      "is less affected[/]", highlight=False)
    gain = speedup(rows)
    if gain is not None:
        verdict = "[green]OK[/]" if gain >= 1.8 else "[red]below target[/]"
        console.print(f"deidc fast, 2 workers vs 1 (wall): {gain:.2f}x speed-up (target >= 1.8x) {verdict}")
    ok = checker_ok(rows)
    if ok is not None:
        console.print("PHI check self-test (raw copy leaks in every file): "
                      + ("[green]OK[/]" if ok else "[bold red]FAILED: the checker misses planted PHI[/]"))


def save_json(path: Path, rows: list[Row], head: dict[str, object]) -> None:
    data = {**head, "workers2_speedup": speedup(rows), "rows": [
        {**asdict(r), "cpu_ms_per_file": r.cpu_ms_per_file, "files_per_s": r.files_per_s,
         "leak": None if r.leak is None else {**asdict(r.leak), "kinds": dict(r.leak.kinds),
                                               "top_kinds": r.leak.top_kinds()}}
        for r in rows]}
    path.write_text(json.dumps(data, indent=2, default=str))
    console.print(f"figures saved to {path}")


def main() -> None:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="deidc-bench-", dir=args.workdir))
    try:
        corpus = (args.corpus or tmp / "corpus").resolve()
        files = build_corpus(corpus, args.files, os.cpu_count() or 1)
        in_bytes = sum(f.stat().st_size for f in files)
        index = pixel_index(files)  # also warms the page cache
        head: dict[str, object] = {"corpus": str(corpus), "files": len(files), "mb": in_bytes / 1e6,
                                   "cpus": os.cpu_count(), "load_before": load(),
                                   "rules": str(args.rules), "peer_files": args.peer_files}
        tools = all_tools(Path(sys.executable).parent / "deidc", args.rules.resolve(), corpus,
                          args.venvs, args.peer_files, args.only)
        rows = []
        for tool in tools:
            with console.status(f"running {tool.name} ..."):
                rows.append(run_tool(tool, corpus, tmp, index, max(args.repeat, 1)))
            row = rows[-1]
            console.log(f"{tool.name}: " + (row.error or f"{fmt(row.cpu_ms_per_file, '.1f')} CPU ms/file, "
                                                         f"{fmt(row.wall_s, '.1f')} s wall"), highlight=False)
        head["load_after"] = load()
        report(rows, head)
        if args.json:
            save_json(args.json, rows, head)
        if checker_ok(rows) is False:
            sys.exit(2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
