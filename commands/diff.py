"""`deidc diff A.deid B.deid [--option NAME] [--exit-code]`: what changes between two rule files.

Both files are compiled (with the same options) and compared on what their rules decide, not on
their text (`deidc.tools.diff`): reordered rules show nothing; a change hidden behind a more
specific rule shows nothing; a new rule shows on every attribute whose decision it takes over.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from deidc.commands.common import compile_for_command, keys_for_command
from deidc.tools.compare import ValueDifference, compare_on_files
from deidc.tools.diff import GROUPS, Difference, count_by_group, diff_plans

DESCRIPTION = """\
Compile two rule files and list every attribute whose effective action (or its parameters)
differs, with the deciding rule's file:line on each side: A in red, B in green. Output is grouped
by tags, private elements, private blocks, masks, paths, VR defaults, defaults and conditional
rules (compared on their own: they decide only for datasets that meet their condition).
With --on DIR, both rule files are also applied to sample files and every element whose output
value differs is listed, file by file."""


def register(sub) -> None:
    p = sub.add_parser("diff", help="compare what two rule files decide, attribute by attribute",
                       description=DESCRIPTION)
    p.add_argument("a", metavar="A.deid")
    p.add_argument("b", metavar="B.deid")
    p.add_argument("--option", action="append", default=[], metavar="NAME",
                   help="select an option block in both files (repeatable)")
    p.add_argument("--exit-code", action="store_true",
                   help="exit with status 1 when there are differences (default: 0)")
    p.add_argument("--on", metavar="DIR", help="also apply both to the DICOM files under DIR and compare values")
    p.add_argument("--limit", type=int, default=20, help="files compared with --on (default 20)")
    p.add_argument("--insecure-demo-key", action="store_true",
                   help="with --on: a public demo key instead of the rules' secrets")
    p.set_defaults(run=run)


def render(differences: list[Difference], a: str, b: str, console: Console) -> None:
    console.print(f"[red]--- {escape(a)}[/red]")
    console.print(f"[green]+++ {escape(b)}[/green]")
    counts = count_by_group(differences)
    for group in GROUPS:
        if not counts[group]:
            continue
        console.print(f"\n[bold]{group}[/bold] ({counts[group]})")
        for d in differences:
            if d.group == group:
                console.print(f"  {escape(d.key)}: [red]{escape(str(d.a))}[/red] → "
                              f"[green]{escape(str(d.b))}[/green]")
    total = len(differences)
    if total:
        parts = ", ".join(f"{group} {counts[group]}" for group in GROUPS)
        console.print(f"\n{total} difference{'s' if total != 1 else ''}: {parts}")
    else:
        console.print("\nno differences")


def run(args: argparse.Namespace) -> int:
    result_a = compile_for_command(args.a, args.option)
    result_b = compile_for_command(args.b, args.option)
    if result_a is None or result_b is None:
        return 2
    differences = diff_plans(result_a.plan, result_b.plan)
    console = Console(highlight=False, soft_wrap=True)
    render(differences, args.a, args.b, console)
    values: list[ValueDifference] = []
    if args.on:
        keys_a, keys_b = (keys_for_command(r.plan, args.insecure_demo_key) for r in (result_a, result_b))
        if keys_a is None or keys_b is None:
            return 2
        values, compared = compare_on_files(result_a.plan, keys_a, result_b.plan, keys_b, Path(args.on), args.limit)
        render_values_diff(values, compared, console)
    return 1 if args.exit_code and (differences or values) else 0


def render_values_diff(values: list[ValueDifference], compared: int, console: Console) -> None:
    console.print(f"\n[bold]values on {compared} file(s)[/bold] ({len(values)} differing)")
    current = None
    for v in values:
        if v.file != current:
            console.print(f"  {escape(v.file)}")
            current = v.file
        console.print(f"    {escape(v.path)}: [red]{escape(v.a[:80])}[/red] → [green]{escape(v.b[:80])}[/green]")
