"""`deidc` command line: one sub-command per tool; each lives in deidc.commands."""
from __future__ import annotations

import argparse
import sys

from deidc import __version__
from deidc.commands import apply, compile, diff, explain, fmt, lint, score


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deidc", description="DICOM de-identification compiler")
    parser.add_argument("--version", action="version", version=f"deidc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (apply, compile, score, explain, diff, fmt, lint):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
