"""`deidc score OUT_DIR ANSWER_KEY.db`: score an output folder against a MIDI-B answer key."""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from deidc.commands.common import err_console
from deidc.runtime.pixels.ocr import ENGINES, LazyOcrEngine
from deidc.scoring import read_mapping, run_scoring
from deidc.scoring.report import (
    Score,
    Tally,
    discrepancies,
    dump_json,
    score,
    summary_csv_path,
    summary_dict,
    write_report,
)


def register(sub) -> None:
    p = sub.add_parser("score", help="score de-identified output against a MIDI-B answer key")
    p.add_argument("output", help="the de-identified output folder")
    p.add_argument("answer_key", help="the answer key (SQLite, table answer_data)")
    p.add_argument("--uid-map", help="id_old,id_new CSV (default: OUTPUT/mappings/uid_mapping.csv)")
    p.add_argument("--patid-map", help="id_old,id_new CSV (default: OUTPUT/mappings/patid_mapping.csv)")
    p.add_argument("--by", choices=("series", "instance"), default="series",
                   help="series: one result per action, tag path and series (MIDI-B's ranking); instance: every check")
    p.add_argument("--report", default="score-report.csv",
                   help="discrepancy report, .csv or .xlsx (default: score-report.csv)")
    p.add_argument("--ocr", choices=(*ENGINES, "none"), default="rapidocr",
                   help="OCR engine for pixels_hidden; none leaves those checks blank")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary instead of tables")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out, key_path = Path(args.output), Path(args.answer_key)
    if not out.is_dir():
        err_console.print(f"[bold red]error:[/] output folder {out} does not exist")
        return 2
    if not key_path.is_file():
        err_console.print(f"[bold red]error:[/] answer key {key_path} does not exist")
        return 2
    uid_path = Path(args.uid_map) if args.uid_map else out / "mappings" / "uid_mapping.csv"
    patid_path = Path(args.patid_map) if args.patid_map else out / "mappings" / "patid_mapping.csv"
    for label, path in (("UID", uid_path), ("patient-ID", patid_path)):
        if not path.is_file():
            err_console.print(f"[yellow]warning:[/] no {label} mapping at {path}: every lookup through it fails")
    try:
        ocr = None if args.ocr == "none" else LazyOcrEngine(args.ocr)
    except ValueError as err:
        err_console.print(f"[bold red]error:[/] {err} (or use --ocr none)")
        return 2
    run_ = run_scoring(out, key_path, read_mapping(uid_path), read_mapping(patid_path), ocr)
    scores = [score(run_.key, run_.judgement, by) for by in (args.by, "instance" if args.by == "series" else "series")]
    rows = discrepancies(run_.key, run_.index, run_.judgement)
    write_report(Path(args.report), scores, rows, run_.index)
    header_checks = sum(1 for a in run_.key.action if a not in ("pixels_hidden", "pixels_retained"))
    speed = header_checks / run_.seconds["judge_header"] if run_.seconds["judge_header"] else 0.0
    if args.json:
        summary = summary_dict(scores, run_.index, run_.judgement, run_.seconds)
        summary["header_checks_per_second"] = round(speed)
        summary["report"] = args.report
        print(dump_json(summary))
        return 0
    console = Console(highlight=False)
    main = scores[0]
    console.print(_tally_table(f"Actions ({main.by}-based)", "action", main.actions))
    console.print(_tally_table(f"Categories ({main.by}-based)", "category / subcategory",
                               {f"{c} / {s}": t for (c, s), t in main.categories.items()}))
    if run_.index.findings:
        findings = Table(title="Findings in the output folder", header_style="bold")
        findings.add_column("file")
        findings.add_column("finding")
        for f, what in run_.index.findings:
            findings.add_row(f, what)
        console.print(findings)
    console.print(_scores_table(scores))
    for s in scores:
        console.print(_score_line(s))
    report = Path(args.report)
    where = args.report if report.suffix.lower() == ".xlsx" else f"{args.report} (scores in {summary_csv_path(report)})"
    console.print(f"{len(run_.key)} checks, {len(run_.key.rows)} key rows, {len(run_.index.files)} output files, "
                  f"{main.missing_files} missing; header checks judged at {speed:,.0f} checks/s; "
                  f"{len(rows)} failing or blank checks listed in {where}")
    return 0


def _scores_table(scores: list[Score]) -> Table:
    table = Table(title="Scores (normalised: the mean of the actions' scores)", header_style="bold")
    table.add_column("aggregation")
    for name in ("pass", "fail", "blank", "total", "score", "normalised"):
        table.add_column(name, justify="right")
    for s in scores:
        t = s.overall
        table.add_row(f"{s.by}-based", str(t.passed), str(t.failed), str(t.blank), str(t.total),
                      f"{t.score:.2%}", f"{s.normalised:.2%}")
    return table


def _tally_table(title: str, label: str, tallies: dict[str, Tally]) -> Table:
    table = Table(title=title, header_style="bold")
    table.add_column(label)
    for name in ("pass", "fail", "blank", "total", "score"):
        table.add_column(name, justify="right")
    for name, t in tallies.items():
        style = "red" if t.failed or t.blank else None
        table.add_row(name, str(t.passed), str(t.failed), str(t.blank), str(t.total), f"{t.score:.2%}", style=style)
    return table


def _score_line(s: Score) -> str:
    t = s.overall
    return (f"[bold]{s.by}-based score: {t.score:.4%}[/], normalised {s.normalised:.4%}  ({t.passed} passed, "
            f"{t.failed} failed, {t.blank} blank, of {t.total})")
