"""`deidc fmt FILE... [--write | --check]`: print rule files in canonical layout.

Without a flag the formatted text goes to stdout. `--write` rewrites the files that change (via a
temporary file and a rename, so a file is never half-written); `--check` changes nothing, lists
the files that would change and exits 1 if there are any (like `black --check`). A syntax error
prints its diagnostic and exits 2.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from deidc.commands.common import print_diagnostics
from deidc.diagnostics import DeidError
from deidc.dsl.printer import FormatError, format_text
from deidc.dsl.source import read_rule_file


def register(sub) -> None:
    p = sub.add_parser("fmt", help="print rule files in canonical layout (or rewrite / check them)")
    p.add_argument("files", nargs="+", metavar="FILE")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the files in place")
    mode.add_argument("--check", action="store_true",
                      help="change nothing; exit 1 listing the files that would change")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    write, check = getattr(args, "write", False), getattr(args, "check", False)
    failed = False
    changed: list[str] = []
    for name in args.files:
        path = Path(name)
        try:
            text = read_rule_file(path)  # the reader every command uses: encoding, limits, binary
            formatted = format_text(text, name)
        except DeidError as err:
            print_diagnostics(err.diagnostics)
            failed = True
            continue
        except FormatError as err:
            print(f"error: {err}", file=sys.stderr)
            failed = True
            continue
        if write or check:
            if formatted != text:
                changed.append(name)
                if write:
                    _write_atomically(path, formatted)
        else:
            sys.stdout.write(formatted)
    if check:
        for name in changed:
            print(f"would reformat {name}")
    elif write:
        for name in changed:
            print(f"reformatted {name}", file=sys.stderr)
    if failed:
        return 2
    return 1 if check and changed else 0


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
