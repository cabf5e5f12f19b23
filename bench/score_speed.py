"""Benchmark: how fast `deidc score` judges MIDI-B checks (a script that prints, not a test).

Scores one output folder against an answer key, in one process, and prints the time of each
stage and the header-action checks per second (text_removed, text_retained, tag_retained,
text_notnull, date_shifted, uid_changed, uid_consistent, patid_consistent; target >= 50,000/s
on one core). The judge runs --repeat times with its text memo cleared before each run, so the
figure is a cold one.

    python bench/score_speed.py OUT_DIR ../shared/midib-dev/answer_key.db
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from deidc.scoring import read_mapping
from deidc.scoring.answer_key import load_answer_key
from deidc.scoring.judge import HEADER_ACTIONS, _text, judge
from deidc.scoring.outputs import index_output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("answer_key", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    t = time.perf_counter()
    key = load_answer_key(args.answer_key)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    index = index_output(args.output)
    index_s = time.perf_counter() - t
    uid_map = read_mapping(args.output / "mappings" / "uid_mapping.csv")
    patid_map = read_mapping(args.output / "mappings" / "patid_mapping.csv")
    header = sum(1 for a in key.action if a in HEADER_ACTIONS)

    best = float("inf")
    for _ in range(args.repeat):
        _text.cache_clear()
        judgement = judge(key, index, uid_map, patid_map, ocr=None)
        best = min(best, judgement.seconds_header)

    table = Table(title=f"deidc score speed | {len(key)} checks ({header} header), {len(index.files)} files | "
                        f"load avg {', '.join(f'{x:.2f}' for x in os.getloadavg())}", header_style="bold")
    for column in ("stage", "seconds", "rate"):
        table.add_column(column, justify="right" if column != "stage" else "left")
    table.add_row("load answer key", f"{load_s:.3f}", f"{len(key) / load_s:,.0f} checks/s")
    table.add_row("index output files", f"{index_s:.3f}", f"{len(index.files) / index_s:,.1f} files/s")
    table.add_row(f"judge header actions (best of {args.repeat}, cold memo)", f"{best:.4f}",
                  f"{header / best:,.0f} checks/s")
    total = load_s + index_s + best
    table.add_row("end to end (without OCR)", f"{total:.3f}", f"{header / total:,.0f} checks/s")
    console = Console()
    console.print(table)
    console.print(f"header checks/s: {header / best:,.0f} (target >= 50,000 on one core)")


if __name__ == "__main__":
    main()
