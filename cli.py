"""`deidc` command line: one sub-command per tool; each lives in deidc.commands."""
from __future__ import annotations

import argparse
import signal
import sys

from deidc import __version__
from deidc.commands import apply, compile, diff, explain, fmt, lint, score, verify


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deidc", description="DICOM de-identification compiler")
    parser.add_argument("--version", action="version", version=f"deidc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (apply, compile, score, verify, explain, diff, fmt, lint):
        module.register(sub)
    return parser


EXIT_INTERRUPTED = 130  # as a shell reports a program that Ctrl-C stopped


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.run(args)
    except KeyboardInterrupt:  # a command with work to keep (apply) handles it itself first
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum, frame) -> None:
    """SIGTERM stops a command as Ctrl-C does: cleanly, never with a traceback."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
