"""`deidc apply RULES IN -o OUT`: compile, check keys, run the batch, show progress and summary."""
from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import time
from pathlib import Path

from pydicom.datadict import keyword_for_tag
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from deidc.commands.common import compile_for_command, err_console, keys_for_command
from deidc.commands.verify import print_verification
from deidc.runtime import limits
from deidc.runtime.batch import outdir
from deidc.runtime.batch.cluster import ClusterUnavailable
from deidc.runtime.batch.folder import NoInputs, RunInterrupted, RunOptions, RunStopped, RunSummary, run_batch
from deidc.runtime.batch.journal import RUN_DIR, JournalMismatch
from deidc.runtime.codec.files import CODECS
from deidc.runtime.pixels.ocr import ENGINES, LazyOcrEngine
from deidc.runtime.text.detectors import APPLY_AT, DEFAULT_REVIEW_THRESHOLD
from deidc.tools.verify.run import verify_output

# Exit codes (docs/tools.md): what a release pipeline can gate on.
EXIT_WRITTEN = 0  # every input written
EXIT_USAGE = 2  # usage or rule error, or nothing to do
EXIT_QUARANTINED = 3  # the run finished; one or more inputs quarantined (quarantine.csv says why)
EXIT_STOPPED = 4  # the run stopped before the end (output full or unwritable); --resume continues it
EXIT_VERIFY_FAILED = 5  # --verify found PHI left, invalid output or inconsistencies (the files stay)
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM (cli.main turns SIGTERM into KeyboardInterrupt); --resume continues it


def register(sub) -> None:
    p = sub.add_parser("apply", help="de-identify a folder of DICOM files")
    p.add_argument("rules", help="the .deid rule file")
    p.add_argument("input", help="input folder (searched recursively) or one file")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: all cores); output is identical for any N")
    p.add_argument("--option", action="append", default=[], metavar="NAME",
                   help="select an option declared in the rule file (repeatable)")
    p.add_argument("--insecure-demo-key", action="store_true",
                   help="use a fixed, public key instead of the rules' secrets (demos only)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier deidc output in the output folder (refused if it holds anything else)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted or stopped run in the output folder (same command line)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="follow symbolic links to files and folders inside the input folder (default: each "
                        "link is listed in quarantine.csv, not followed)")
    d = limits.DEFAULT
    p.add_argument("--file-timeout", type=float, metavar="SECONDS", default=d.file_seconds,
                   help=f"time one file may take before its worker is stopped and the file quarantined "
                        f"(default: {d.file_seconds:g})")
    p.add_argument("--max-memory", type=int, metavar="MB", default=d.worker_memory >> 20,
                   help=f"memory one worker process may allocate (default: {d.worker_memory >> 20})")
    p.add_argument("--max-inflated", type=int, metavar="MB", default=d.inflated_bytes >> 20,
                   help=f"size a deflated file may inflate to (default: {d.inflated_bytes >> 20})")
    p.add_argument("--max-clean-chars", type=int, metavar="N", default=d.clean_chars,
                   help=f"longest text value `clean` reads; longer values quarantine the file (default: {d.clean_chars})")
    p.add_argument("--max-phi-words", type=int, metavar="N", default=d.phi_words,
                   help=f"distinct collected PHI words per patient that `clean` compares against; more "
                        f"quarantine the patient's cleaned files (default: {d.phi_words})")
    p.add_argument("--regex-timeout", type=_positive_seconds, metavar="SECONDS", default=d.regex_seconds,
                   help=f"time one search with a rule's own /regex/ may take on one value (a `~` condition, "
                        f"a `clean` pattern on one text); a longer one quarantines the file (default: "
                        f"{d.regex_seconds:g})")
    p.add_argument("--review-threshold", type=_confidence, metavar="C", default=DEFAULT_REVIEW_THRESHOLD,
                   help=f"detections of `clean ... detect` less confident than C (0-1) are listed in "
                        f"OUT/review.jsonl for a curator, removed or not (those of confidence {APPLY_AT:g} "
                        f"or more are removed; default: {DEFAULT_REVIEW_THRESHOLD:g})")
    p.add_argument("--verify", action="store_true",
                   help="run `deidc verify OUT --against IN` on the fresh output; exit 5 when it finds anything")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ocr", choices=tuple(ENGINES), default="rapidocr",
                   help="OCR engine for pixels blocks (default: rapidocr; tesseract needs tesserocr)")
    p.add_argument("--preview", metavar="DIR", help="write a PNG of every redacted frame, boxes drawn, to DIR")
    p.add_argument("--codec", choices=CODECS, default="fast",
                   help="fast: the byte-level engine, which copies every element the rules leave "
                        "untouched and hands files it cannot copy (big endian, deflate, odd files) to the "
                        "reference engine (default); reference: pydicom reads and writes every file. Both "
                        "give byte-identical output")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: a pool of --workers processes on this machine (default); dask: run the same "
                        "Plan on a Dask cluster, workers independent, mappings merged at the end (needs a "
                        "filesystem shared by this machine and the workers)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --engine dask: address of a running Dask scheduler (tcp://host:port); without "
                        "it --engine dask starts a local cluster of --workers processes")
    p.set_defaults(run=run)


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _positive_seconds(text: str) -> float:
    """A time limit: a number above 0 (0 would stop every search, a negative one none)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not seconds > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return seconds


def run(args: argparse.Namespace) -> int:
    result = compile_for_command(args.rules, args.option)
    if result is None:
        return EXIT_USAGE
    plan = result.plan
    keys = keys_for_command(plan, args.insecure_demo_key)
    if keys is None:
        return EXIT_USAGE
    source, out = Path(args.input), Path(args.output)
    problem = _check_paths(source, out, args.overwrite, args.resume)
    if problem:
        err_console.print(f"[bold red]error:[/] {problem}")
        return EXIT_USAGE
    if args.engine == "dask" and not _has_distributed():
        err_console.print("[bold red]error:[/] --engine dask needs the Dask distributed package: "
                          "pip install 'distributed>=2024.1'")
        return EXIT_USAGE
    if args.scheduler and args.engine != "dask":
        err_console.print("[bold red]error:[/] --scheduler needs --engine dask")
        return EXIT_USAGE
    if plan.pixels:
        try:
            LazyOcrEngine(args.ocr)
        except ValueError as err:
            err_console.print(f"[bold red]error:[/] {err}")
            return EXIT_USAGE
    run_limits = limits.with_overrides(file_seconds=args.file_timeout, worker_memory=args.max_memory << 20,
                                       inflated_bytes=args.max_inflated << 20, clean_chars=args.max_clean_chars,
                                       phi_words=args.max_phi_words, regex_seconds=args.regex_timeout)
    limits.configure(run_limits)
    try:
        if args.overwrite and not args.resume and out.exists():
            outdir.clear_previous_output(out)
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        err_console.print(f"[bold red]error:[/] cannot prepare the output folder {out}: {err.strerror or err}")
        return EXIT_STOPPED
    options = RunOptions(engine=args.engine, scheduler=args.scheduler, codec=args.codec, ocr_name=args.ocr,
                         preview_dir=Path(args.preview) if args.preview else None, resume=args.resume,
                         follow_symlinks=args.follow_symlinks, run_limits=run_limits,
                         rule_options=tuple(args.option), review_threshold=args.review_threshold)
    try:
        summary = _run_with_progress(plan, keys, source, out, max(1, args.workers), not args.no_progress, options)
    except (ClusterUnavailable, NoInputs, JournalMismatch) as err:
        err_console.print(f"[bold red]error:[/] {err}")
        return EXIT_USAGE
    except RunStopped as stop:
        err_console.print(f"[bold red]error:[/] the run stopped: {stop}")
        _print_resume_hint(stop.summary, out)
        return EXIT_STOPPED
    except RunInterrupted as stop:
        err_console.print("[bold yellow]interrupted.[/]")
        _print_resume_hint(stop.summary, out)
        return EXIT_INTERRUPTED
    console = Console(highlight=False)
    console.print(summary_table(summary, out))
    console.print(f"mappings/, audit.jsonl and quarantine.csv are in {out}")
    review = out / "review.jsonl"
    if review.exists():
        with review.open("rb") as fh:
            doubtful = sum(1 for _ in fh)
        console.print(f"{doubtful} detection(s) of `clean ... detect` to review (less sure than "
                      f"--review-threshold): {review}")
    if args.verify:
        verification = verify_output(out, source, LazyOcrEngine(args.ocr))
        print_verification(console, verification)
        if verification.findings:
            err_console.print(f"[bold red]error:[/] verify found {len(verification.findings)} problem(s) in the "
                              f"output; the files stay in {out} for you to inspect: do not release them")
            return EXIT_VERIFY_FAILED
    if summary.quarantined:
        console.print(f"{summary.quarantined} input(s) quarantined: {out / 'quarantine.csv'} says why")
        return EXIT_QUARANTINED
    return EXIT_WRITTEN


def _print_resume_hint(summary: RunSummary, out: Path) -> None:
    settled = summary.written + summary.quarantined
    command = [a for a in sys.argv if a not in ("--resume", "--overwrite")]
    command[0] = "deidc" if Path(command[0]).name in ("deidc", "__main__.py", "cli.py") else command[0]
    err_console.print(f"{settled} of {summary.files} inputs were settled ({summary.written} written, "
                      f"{summary.quarantined} quarantined); the journal in {out / RUN_DIR} keeps them.\n"
                      f"Continue with: {shlex.join(command + ['--resume'])}", soft_wrap=True)


def _has_distributed() -> bool:
    try:
        importlib.import_module("distributed")  # installed and importable, not merely present
    except ImportError:
        return False
    return True


def _check_paths(source: Path, out: Path, overwrite: bool, resume: bool) -> str | None:
    if not source.exists():
        return f"input {source} does not exist"
    src, dst = source.resolve(), out.resolve()
    if source.is_dir() and (dst == src or src in dst.parents):
        return f"output {out} is inside the input {source}; choose a folder outside it"
    if overwrite and resume:
        return "--overwrite starts over and --resume continues: choose one"
    return outdir.check_output_folder(out, overwrite, resume)


def _run_with_progress(plan, keys, source: Path, out: Path, workers: int, show: bool,
                       options: RunOptions) -> RunSummary:
    columns = (TextColumn("[bold]de-identifying"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[quarantined]} quarantined"), TimeRemainingColumn())
    # auto_refresh=False: no refresh thread, so worker processes can be forked safely.
    with Progress(*columns, console=err_console, disable=not show, auto_refresh=False) as progress:
        task = progress.add_task("files", total=None, quarantined=0)
        quarantined, last_refresh = 0, 0.0

        def on_file(result) -> None:
            nonlocal quarantined, last_refresh
            quarantined += bool(result.quarantine)
            progress.update(task, advance=1, quarantined=quarantined)
            now = time.monotonic()
            if now - last_refresh > 0.1:
                progress.refresh()
                last_refresh = now

        summary = run_batch(plan, keys, source, out, workers, on_file,
                            on_start=lambda total: progress.update(task, total=total), options=options)
        progress.refresh()
        return summary


def _attribute_name(tag_text: str) -> str:
    """'(0008,1030)' → 'StudyDescription (0008,1030)' for the summary (private: the tag alone)."""
    group, element = (int(part, 16) for part in tag_text.strip("()").split(","))
    keyword = keyword_for_tag((group << 16) | element)
    return f"{keyword} {tag_text}" if keyword else tag_text


def summary_table(s: RunSummary, out: Path) -> Table:
    table = Table(title=f"deidc apply → {out}", show_header=True, header_style="bold")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    table.add_row("input files", str(s.files))
    if s.resumed:
        table.add_row("  settled by the interrupted run", str(s.resumed))
    table.add_row("written", str(s.written))
    table.add_row("quarantined", str(s.quarantined))
    for reason, n in s.quarantine_reasons.most_common():
        table.add_row(f"  {reason}", str(n))
    for action, n in sorted(s.changes_by_action.items()):
        table.add_row(f"elements: {action}", str(n))
    for tag, n in sorted(s.cleaned_by_tag.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"  cleaned: {_attribute_name(tag)}", str(n))
    if s.codec == "fast":
        table.add_row("reference engine (files the fast engine could not copy)", str(sum(s.routed.values())))
        for reason, n in s.routed.most_common():
            table.add_row(f"  {reason}", str(n))
    table.add_row("private elements no rule names (private * / default)", str(s.unknown_private))
    table.add_row("UIDs mapped", str(s.uids_mapped))
    table.add_row("patient IDs mapped", str(s.patients_mapped))
    table.add_row("seconds", f"{s.seconds:.2f}")
    table.add_row("files/s", f"{s.files_per_second:.1f}")
    table.add_row("MB/s", f"{s.bytes_in / 1e6 / s.seconds:.1f}" if s.seconds else "-")
    return table

