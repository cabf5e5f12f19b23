"""`deidc compile RULES [--show]`: check a rule file and print its Plan."""
from __future__ import annotations

import argparse

from deidc.commands.common import compile_for_command
from deidc.tools.show import format_plan


def register(sub) -> None:
    p = sub.add_parser("compile", help="check a rule file and print the Plan it compiles to")
    p.add_argument("rules")
    p.add_argument("--option", action="append", default=[], metavar="NAME")
    p.add_argument("--show", action="store_true", help="print the Plan")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = compile_for_command(args.rules, args.option)
    if result is None:
        return 2
    if args.show:
        print(format_plan(result.plan), end="")
    else:
        print(f"{args.rules}: ok, {len(result.plan.rules)} rules")
    return 0
