"""What the sub-commands share: compiling with diagnostics on stderr."""
from __future__ import annotations

import sys

from rich.console import Console

from deidc.compiler import CompileResult, compile_rules
from deidc.dsl.diagnostics import DeidError

err_console = Console(stderr=True, highlight=False)


def print_diagnostics(diagnostics) -> None:
    for d in diagnostics:
        print(d.render(), file=sys.stderr)


def compile_for_command(rules: str, options: list[str] | None) -> CompileResult | None:
    """Compile; print every diagnostic; None when there is an error (the caller exits 2)."""
    try:
        result = compile_rules(rules, tuple(options or ()))
    except DeidError as err:
        print_diagnostics(err.diagnostics)
        return None
    print_diagnostics(result.diagnostics)
    return None if result.errors else result
