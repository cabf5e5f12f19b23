"""`deidc lint RULES... [--format text|json]`: every finding about rule files at once.

Prints compiler diagnostics (DCnnn) and lint findings (DLnnn, see docs/lint.md); exits 1 when
any finding is an error, 0 otherwise.
"""
from __future__ import annotations

import argparse
import json

from deidc.compiler.lint import finding_json, has_errors, lint_file


def register(sub) -> None:
    p = sub.add_parser("lint", help="report every problem in rule files (compiler and lint checks)")
    p.add_argument("rules", nargs="+")
    p.add_argument("--option", action="append", default=[], metavar="NAME")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    findings = []
    for rules in args.rules:
        findings.extend(lint_file(rules, tuple(getattr(args, "option", None) or ())))
    if getattr(args, "format", "text") == "json":
        print(json.dumps([finding_json(d) for d in findings], indent=2))
    else:
        for d in findings:
            print(d.render())
        errors = sum(d.severity == "error" for d in findings)
        print(f"{len(findings)} findings ({errors} errors, {len(findings) - errors} warnings)")
    return 1 if has_errors(findings) else 0
