"""The compiler: AST → checks → Plan.

In: a .deid file (and the options selected for it). Out: a `Plan` (see `deidc.compiler.plan`)
plus every diagnostic found on the way. `compile_rules` collects all diagnostics (for `lint`);
`compile_or_raise` stops with a `DeidError` when any is an error (for `apply`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deidc.compiler.build import PASSES, Compilation
from deidc.compiler.expand import expand_file
from deidc.compiler.plan import Plan
from deidc.diagnostics import DeidError, Diagnostic
from deidc.dsl.parser import parse_file


@dataclass
class CompileResult:
    plan: Plan
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def compile_rules(path: str | Path, options: tuple[str, ...] = ()) -> CompileResult:
    """Parse, expand and compile a rule file. Syntax errors raise `DeidError`."""
    diagnostics: list[Diagnostic] = []
    sources: list[str] = []
    root = parse_file(path)
    statements = expand_file(root, options, diagnostics, sources)
    compilation = Compilation(statements, diagnostics)
    for compiler_pass in PASSES:
        compiler_pass(compilation)
    compilation.plan.sources = sources
    return CompileResult(compilation.plan, diagnostics)


def compile_or_raise(path: str | Path, options: tuple[str, ...] = ()) -> CompileResult:
    result = compile_rules(path, options)
    if result.errors:
        raise DeidError(result.errors)
    return result
