"""Composition: `use`, `include`, `option` and `when` flattened into one ordered statement list.

In: the parsed top-level `RuleFile` and the options selected for it. Out: `Scoped` statements in
source order, each with the conjunction of the `when` conditions around it. `use "name" with a, b`
loads the shipped profile `rulesets/name.deid` (a `/` in the name reads as `-`) with options a and
b; `include "file.deid"` loads a file relative to the including file. Both expand in place, so
rules written after them are "later" in the precedence model. Cycles are errors.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deidc.compiler.names import did_you_mean
from deidc.dsl import ast
from deidc.dsl.diagnostics import Diagnostic, Span
from deidc.dsl.parser import parse_file
from deidc.resources import RULESETS_DIR

LANGUAGE_VERSION = 1


@dataclass(frozen=True)
class Scoped:
    statement: ast.Statement
    conditions: tuple[ast.Condition, ...]


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in RULESETS_DIR.glob("*.deid"))


def profile_path(name: str) -> Path:
    return RULESETS_DIR / (name.replace("/", "-") + ("" if name.endswith(".deid") else ".deid"))


def expand_file(root: ast.RuleFile, options: tuple[str, ...], diagnostics: list[Diagnostic],
                sources: list[str], option_span: Span | None = None) -> list[Scoped]:
    """Flatten `root` and everything it uses or includes."""
    out: list[Scoped] = []
    _expand(root, set(options), (), out, diagnostics, [str(Path(root.path).resolve())], sources,
            option_span)
    return out


def _declared_options(statements: tuple[ast.Statement, ...]) -> dict[str, ast.Option]:
    found: dict[str, ast.Option] = {}
    for st in statements:
        if isinstance(st, ast.Option):
            found[st.name] = st
        elif isinstance(st, ast.When):
            found.update(_declared_options(st.statements))
    return found


def _expand(rule_file: ast.RuleFile, options: set[str], conditions: tuple[ast.Condition, ...],
            out: list[Scoped], diagnostics: list[Diagnostic], stack: list[str], sources: list[str],
            option_span: Span | None) -> None:
    sources.append(rule_file.path)
    declared = _declared_options(rule_file.statements)
    for name in sorted(options - declared.keys()):
        span = option_span or rule_file.span
        diagnostics.append(Diagnostic(
            "error", f"{rule_file.path} has no option '{name}'", span, code="DC010",
            hint=did_you_mean(name, declared) or f"options of this file: {', '.join(sorted(declared)) or 'none'}"))
    _expand_statements(rule_file.statements, rule_file.path, options, conditions, out,
                       diagnostics, stack, sources)


def _expand_statements(statements, file: str, options: set[str], conditions, out, diagnostics,
                       stack, sources) -> None:
    for st in statements:
        if isinstance(st, ast.Version):
            if st.number != LANGUAGE_VERSION:
                diagnostics.append(Diagnostic(
                    "error", f"unsupported language version {st.number}", st.span, code="DC011",
                    hint=f"this deidc reads version {LANGUAGE_VERSION}"))
        elif isinstance(st, ast.Option):
            if st.name in options:
                _expand_statements(st.statements, file, options, conditions, out, diagnostics,
                                   stack, sources)
        elif isinstance(st, ast.When):
            _expand_statements(st.statements, file, options, conditions + (st.condition,), out,
                               diagnostics, stack, sources)
        elif isinstance(st, (ast.Use, ast.Include)):
            _expand_reference(st, file, conditions, out, diagnostics, stack, sources)
        else:
            out.append(Scoped(st, conditions))


def _expand_reference(st: ast.Use | ast.Include, file: str, conditions, out, diagnostics, stack,
                      sources) -> None:
    if isinstance(st, ast.Use):
        target = profile_path(st.profile)
        if not target.is_file():
            diagnostics.append(Diagnostic(
                "error", f"no shipped profile named '{st.profile}'", st.span, code="DC012",
                hint=did_you_mean(st.profile, shipped_profiles())
                or f"shipped profiles: {', '.join(shipped_profiles())}"))
            return
        options = set(st.options)
    else:
        target = (Path(file).parent / st.path)
        if not target.is_file():
            diagnostics.append(Diagnostic(
                "error", f"included file not found: {st.path}", st.span, code="DC013",
                hint=f"paths are relative to {Path(file).parent or '.'}"))
            return
        options = set()
    resolved = str(target.resolve())
    if resolved in stack:
        diagnostics.append(Diagnostic(
            "error", f"'{target.name}' includes itself (cycle: {' -> '.join(Path(s).name for s in stack)})",
            st.span, code="DC014", hint="remove one of the include/use statements"))
        return
    child = parse_file(target)
    _expand(child, options, conditions, out, diagnostics, stack + [resolved], sources, st.span)
