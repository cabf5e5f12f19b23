"""What the sub-commands share: compiling with diagnostics on stderr."""
from __future__ import annotations

import sys

from rich.console import Console

from deidc.compiler import CompileResult
from deidc.compiler.cache import cached_compile
from deidc.compiler.plan import Plan
from deidc.diagnostics import DeidError
from deidc.runtime.batch.key_sources import resolve_keys

err_console = Console(stderr=True, highlight=False)


def print_diagnostics(diagnostics) -> None:
    for d in diagnostics:
        print(d.render(), file=sys.stderr)


def compile_for_command(rules: str, options: list[str] | None) -> CompileResult | None:
    """Compile; print every diagnostic; None when there is an error (the caller exits 2)."""
    try:
        result = cached_compile(rules, tuple(options or ()))
    except DeidError as err:
        print_diagnostics(err.diagnostics)
        return None
    print_diagnostics(result.diagnostics)
    return None if result.errors else result


def keys_for_command(plan: Plan, insecure_demo_key: bool) -> dict[str, bytes] | None:
    """The rules' secrets, or None after printing why not (the caller exits 2). The demo key is
    announced every time it is used."""
    try:
        keys = resolve_keys(plan, insecure_demo_key)
    except DeidError as err:
        print_diagnostics(err.diagnostics)
        return None
    if insecure_demo_key:
        err_console.print("[bold yellow]warning:[/] --insecure-demo-key: pseudonyms use a public demo "
                          "key; anyone can reverse them. Never use this for real data.")
    return keys
