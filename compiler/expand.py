"""Composition: `use`, `include`, `option` and `when` flattened into one ordered statement list.

In: the parsed top-level `RuleFile` and the options selected for it. Out: `Scoped` statements in
source order, each with the conjunction of the `when` conditions around it. `use "name" with a, b`
loads the shipped profile `rulesets/name.deid` (a `/` in the name reads as `-`) with options a and
b; `include "file.deid"` loads a file relative to the including file. Both expand in place, so
rules written after them are "later" in the precedence model. Cycles are errors. An included
file must be a rule file — a regular file named *.deid (a link must lead to one) — else DC015 at
the `include`, before the file is opened; errors in an included file (syntax, encoding, limits)
are collected with the others, positioned in that file.
"""
from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from deidc.compiler.names import did_you_mean
from deidc.diagnostics import DeidError, Diagnostic, Span
from deidc.dsl import ast
from deidc.dsl.parser import parse_file
from deidc.dsl.source import RULE_FILE_SUFFIX
from deidc.resources import RULESETS_DIR

LANGUAGE_VERSION = 1
# Pseudo-file systems whose "regular" files are views of the system (/proc/self/environ holds the
# environment, secrets included): never a rule file, whatever a link to them is called.
PSEUDO_FILE_SYSTEMS = ("/proc", "/sys")
INCLUDE_HINT = (f"`include` reads only rule files: regular files whose name ends in {RULE_FILE_SUFFIX} "
                "(a link must lead to one too); if this file holds rules, rename it")


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


def _expand_statements(statements: tuple[ast.Statement, ...], file: str, options: set[str],
                       conditions: tuple[ast.Condition, ...], out: list[Scoped], diagnostics: list[Diagnostic],
                       stack: list[str], sources: list[str]) -> None:
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


def _expand_reference(st: ast.Use | ast.Include, file: str, conditions: tuple[ast.Condition, ...],
                      out: list[Scoped], diagnostics: list[Diagnostic], stack: list[str],
                      sources: list[str]) -> None:
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
        problem = _include_problem(st.path, target)
        if problem == "missing":
            diagnostics.append(Diagnostic(
                "error", f"included file not found: {st.path}", st.span, code="DC013",
                hint=f"paths are relative to {Path(file).parent or '.'}"))
            return
        if problem:
            diagnostics.append(Diagnostic(
                "error", f"included file is not a rule file: '{st.path}' {problem}", st.span,
                code="DC015", hint=INCLUDE_HINT))
            return
        options = set()
    resolved = str(target.resolve())
    if resolved in stack:
        diagnostics.append(Diagnostic(
            "error", f"'{target.name}' includes itself (cycle: {' -> '.join(Path(s).name for s in stack)})",
            st.span, code="DC014", hint="remove one of the include/use statements"))
        return
    try:
        child = parse_file(target)
    except DeidError as err:  # collected like every other error, so `lint` reports it too
        diagnostics.extend(err.diagnostics)
        return
    _expand(child, options, conditions, out, diagnostics, stack + [resolved], sources, st.span)


def _include_problem(written: str, target: Path) -> str | None:
    """Why `include "written"` (resolved to `target`) does not name a rule file: "missing" when
    nothing is there, else the rest of a sentence; None when it is a rule file. The name is
    checked before the file is looked at, so whether some other file exists is not revealed;
    nothing is opened, so a FIFO cannot block and a device cannot be read."""
    if not written.endswith(RULE_FILE_SUFFIX):
        return f"(its name does not end in {RULE_FILE_SUFFIX})"
    try:
        mode = target.stat().st_mode  # follows links
    except (OSError, ValueError):
        return "missing"
    if stat.S_ISDIR(mode):
        return "(it is a directory, not a regular file)"
    if not stat.S_ISREG(mode):
        return "(it is a device, FIFO or socket, not a regular file)"
    resolved = target.resolve()
    if not resolved.name.endswith(RULE_FILE_SUFFIX):
        return f"(it is a link to a file whose name does not end in {RULE_FILE_SUFFIX})"
    if any(resolved.is_relative_to(root) for root in PSEUDO_FILE_SYSTEMS):
        return f"(it is in {resolved.parts[0]}{resolved.parts[1]}, not a regular file)"
    return None
