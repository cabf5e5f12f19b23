"""`deidc verify OUT [--against IN]`: an independent check that a release holds no PHI, is valid
DICOM and is consistent across files; its exit status is what a release pipeline gates on."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from deidc.commands.common import err_console
from deidc.runtime.pixels.ocr import ENGINES, LazyOcrEngine
from deidc.tools.verify.run import Verification, verify_output

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def register(sub) -> None:
    p = sub.add_parser("verify", help="check a de-identified output independently: PHI left, validity, consistency")
    p.add_argument("output", help="the de-identified output folder (what `deidc apply -o` wrote)")
    p.add_argument("--against", metavar="IN",
                   help="the run's input: search every PHI value of each original in its output, and check "
                        "UIDs, patient IDs and date offsets")
    p.add_argument("--ocr", choices=(*ENGINES, "none"), default="rapidocr",
                   help="OCR for burned-in text, with --against (default: rapidocr; none: headers only)")
    p.add_argument("--conformance", action="store_true",
                   help="run dciodvfy (Debian dicom3tools) on each output and its input: report the errors "
                        "de-identification introduced")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if not out.is_dir():
        err_console.print(f"[bold red]error:[/] output folder {out} does not exist")
        return EXIT_USAGE
    against = Path(args.against) if args.against else None
    if against is not None and not against.exists():
        err_console.print(f"[bold red]error:[/] input {against} does not exist")
        return EXIT_USAGE
    ocr = LazyOcrEngine(args.ocr) if against is not None and args.ocr != "none" else None
    result = verify_output(out, against, ocr, args.conformance)
    if args.format == "json":
        print(json.dumps(verification_json(result), indent=2))
    else:
        print_verification(Console(highlight=False), result)
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


def verification_json(result: Verification) -> dict:
    return {"files": result.files, "paired_with_input": result.paired, "seconds": round(result.seconds, 3),
            "counts": dict(sorted(result.counts().items())), "notes": result.notes,
            "conformance_input_errors": result.conformance_input_errors,
            "findings": [{"kind": f.kind, "file": f.file, "path": f.path, "detail": f.detail}
                         for f in result.findings]}


def print_verification(console: Console, result: Verification, limit: int = 50) -> None:
    """A table per finding kind (at most `limit` rows each), then the totals."""
    for kind, count in sorted(result.counts().items()):
        table = Table("file", "path", "what", title=f"{kind}: {count}", title_justify="left")
        for finding in [f for f in result.findings if f.kind == kind][:limit]:
            table.add_row(finding.file, finding.path or "-", finding.detail)
        if count > limit:
            table.add_row(f"... {count - limit} more (--format json lists all)", "", "")
        console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")
    speed = result.files / result.seconds if result.seconds else 0.0
    paired = f", {result.paired} paired with their input" if result.paired else ""
    verdict = "no findings" if not result.findings else f"{len(result.findings)} finding(s)"
    console.print(f"verified {result.files} file(s){paired} in {result.seconds:.1f} s ({speed:.1f} files/s): {verdict}")
