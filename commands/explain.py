"""`deidc explain RULES FILE [TAG]`: which rule decides each element of one file, and its effect.

Renders `runtime.explain` as a rich table (or aligned plain text with `--plain`); the first line
says whether the file would be quarantined. Exit 0, or 2 for bad rules, missing keys, an unreadable
file or a TAG that names no element.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from deidc.commands.common import compile_for_command, err_console, keys_for_command
from deidc.runtime.codec.files import NotDicom, read_dataset
from deidc.runtime.limits import LimitExceeded
from deidc.tools.explain import ElementExplanation, Explanation, UnknownTag, explain_dataset, select

COLUMNS = ("path", "name", "VR", "rule", "selector", "step", "action", "before", "after", "found")


def register(sub) -> None:
    p = sub.add_parser("explain", help="show which rule decides each element of one file, and what it does")
    p.add_argument("rules", help="the .deid rule file")
    p.add_argument("file", help="one DICOM file")
    p.add_argument("tag", nargs="?", help="only this element: a keyword, (gggg,eeee) or a path as printed")
    p.add_argument("--option", action="append", default=[], metavar="NAME",
                   help="select an option declared in the rule file (repeatable)")
    p.add_argument("--insecure-demo-key", action="store_true",
                   help="use a fixed, public key instead of the rules' secrets (demos only)")
    p.add_argument("--plain", action="store_true", help="aligned plain text instead of a table")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = compile_for_command(args.rules, args.option)
    if result is None:
        return 2
    keys = keys_for_command(result.plan, args.insecure_demo_key)
    if keys is None:
        return 2
    try:
        ds = read_dataset(Path(args.file))
    except (NotDicom, OSError) as err:
        err_console.print(f"[bold red]error:[/] cannot read {args.file}: {err}", markup=True, highlight=False)
        return 2
    try:
        explanation = explain_dataset(result.plan, keys, ds)
    except LimitExceeded as err:  # as `apply` would: the file is quarantined, and why
        print(f"{args.file}: would be QUARANTINED ({err.kind}): {err}")
        return 0
    rows = explanation.elements
    if getattr(args, "tag", None):
        try:
            rows = select(explanation, args.tag)
        except UnknownTag as err:
            err_console.print(f"[bold red]error:[/] {err}")
            return 2
    print(quarantine_line(args.file, explanation))
    if getattr(args, "plain", False):
        print(plain_table(rows), end="")
    else:
        Console(highlight=False).print(rich_table(rows))
    return 0


def quarantine_line(file: str, explanation: Explanation) -> str:
    if explanation.quarantine:
        return f"{file}: would be QUARANTINED: {explanation.quarantine}"
    return f"{file}: would be written (not quarantined)"


def _cells(row: ElementExplanation) -> tuple[str, ...]:
    return (row.path, row.name, row.vr, row.rule or "-", row.selector or "-", row.step, row.action,
            row.before, row.after, row.found)


def rich_table(rows: list[ElementExplanation]) -> Table:
    table = Table(*COLUMNS)
    for row in rows:
        table.add_row(*(Text(c) for c in _cells(row)))
    return table


def plain_table(rows: list[ElementExplanation]) -> str:
    """Columns separated by two spaces, padded to the widest cell; one line per element."""
    lines = [COLUMNS] + [_cells(r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n" for line in lines)
