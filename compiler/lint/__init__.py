"""`deidc lint`: every finding about a rule file at once, compiler diagnostics included.

In: a .deid file (and the options selected for it). Out: `Diagnostic`s whose `code` is a lint
code (DLnnn) or a compiler/parser code (DCnnn, DSnnn) and whose message starts with the rule's
name (`shadowed-rule: ...`). One module per lint rule, `dl0nn_<name>.py`, each with a docstring
(what / why / bad / good — `docs/lint.md` is made from them) and `check(ctx)`.

Findings about rules are reported only where the linted file wrote them: a site file that
`use`s a profile and overrides some of its rules is doing what the precedence model is for.
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

import regex

from deidc.compiler.build import PASSES, Compilation
from deidc.compiler.dispatch import Dispatcher
from deidc.compiler.expand import Scoped, _declared_options, expand_file
from deidc.compiler.plan import Origin, Plan, PlanRule
from deidc.diagnostics import CODES, DeidError, Diagnostic, Span, shown_text
from deidc.dicom import dictionary_vrs
from deidc.dsl import ast
from deidc.dsl.parser import parse_file
from deidc.resources import RULESETS_DIR

# Compiler codes that a lint rule owns (the finding takes the lint code and name).
MAPPED_CODES = {"DC004": "DL009", "DC006": "DL009", "DC024": "DL011"}


@dataclass(frozen=True)
class LintRule:
    code: str  # DL001
    name: str  # shadowed-rule
    doc: str
    check: Callable[[LintContext], Iterable[Diagnostic]]


@dataclass(frozen=True)
class TableRow:
    tag: int
    name: str
    required: bool  # stdCompIOD == "Y"
    basic: str  # the Basic Profile action code, e.g. "X/Z/D"


@lru_cache(maxsize=1)
def table_e1_1() -> tuple[TableRow, ...]:
    """Table E.1-1 rows with a concrete tag (repeating groups as their 6000/5000 group; the
    command group, which stored instances never hold, and the file meta group, whose only row
    is MediaStorageSOPInstanceUID, written by deidc itself, left out)."""
    rows = []
    for row in json.loads((RULESETS_DIR / "ps3.15-table-e1-1.json").read_text(encoding="utf-8")):
        text = row["tag"].strip("()").upper()
        if "," not in text or len(text) != 9:
            continue
        group, element = text.split(",")
        if "X" in element:
            continue
        try:
            tag = int(group.replace("X", "0") + element, 16)
        except ValueError:
            continue
        if tag >> 16 in (0x0000, 0x0002):
            continue
        rows.append(TableRow(tag, row["name"], row["stdCompIOD"] == "Y", row["basicProfile"]))
    return tuple(sorted(rows, key=lambda r: r.tag))


@dataclass
class LintContext:
    path: Path  # the linted file, resolved
    options: tuple[str, ...]
    plan: Plan  # with the selected options
    statements: list[Scoped]
    full_plan: Plan  # with every option the file declares selected: for "is it used anywhere"
    full_statements: list[Scoped]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    option_blocks: list[tuple[int, int]] = field(default_factory=list)  # lines of the file's options

    def in_option(self, origin: Origin) -> bool:
        """True when the linted file wrote this rule inside an `option` block."""
        return self.in_file(origin) and any(a <= origin.line <= b for a, b in self.option_blocks)

    def in_file(self, where: Origin | Span | str) -> bool:
        file = where if isinstance(where, str) else where.file
        try:
            return Path(file).resolve() == self.path
        except OSError:
            return False

    @property
    def file(self) -> str:
        return str(self.path)

    def span(self, origin: Origin) -> Span:
        width = max(1, len(origin.selector))
        return Span(origin.file, origin.line, origin.column, origin.line, origin.column + width)

    def file_span(self) -> Span:
        """Where a whole-file finding points: the first line that is not a comment or blank."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                col = len(line) - len(line.lstrip()) + 1
                return Span(self.file, number, col, number, col + len(stripped.split("#")[0].rstrip()))
        return Span(self.file, 1, 1, 1, 2)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.plan)

    def decide(self, tag: int) -> PlanRule | None:
        """The rule that decides a top-level standard element with no `when` condition met."""
        vrs = sorted(dictionary_vrs(tag)) or ["UN"]
        no_conditions = (False,) * len(self.plan.conditions)
        return self.dispatcher.rule_for((), tag, vrs[0], None, no_conditions)


def _rule_modules() -> list[ModuleType]:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("dl"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


@lru_cache(maxsize=1)
def registry() -> tuple[LintRule, ...]:
    rules = []
    for module in _rule_modules():
        short = module.__name__.rsplit(".", 1)[1]
        number, _, name = short.partition("_")
        rules.append(LintRule(number.upper(), name.replace("_", "-"), (module.__doc__ or "").strip(),
                              module.check))
    return tuple(rules)


def _compile(path: Path, options: tuple[str, ...], root: ast.RuleFile) -> tuple[Plan, list[Scoped], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    sources: list[str] = []
    statements = expand_file(root, options, diagnostics, sources)
    compilation = Compilation(statements, diagnostics)
    for compiler_pass in PASSES:
        compiler_pass(compilation)
    compilation.plan.sources = sources
    return compilation.plan, statements, diagnostics


def _stamp(d: Diagnostic, code: str, name: str) -> Diagnostic:
    return replace(d, code=code, message=f"{name}: {d.message}")


def lint_file(path: str | Path, options: tuple[str, ...] | dict[str, Any] | None = None,
              env: dict[str, str] | None = None) -> list[Diagnostic]:
    """Every finding for `path`, sorted by file and position. `options`: the options selected
    for the file (a tuple of names, or a dict with key "options")."""
    if isinstance(options, dict):
        options = tuple(options.get("options", ()))
    options = tuple(options or ())
    path = Path(path)
    try:
        root = parse_file(path)
    except DeidError as err:
        return [_stage_finding(d) for d in err.diagnostics]
    plan, statements, diagnostics = _compile(path, options, root)
    every_option = tuple(sorted(set(options) | set(_declared_options(root.statements))))
    if every_option != tuple(sorted(options)):
        full_plan, full_statements, _ = _compile(path, every_option, parse_file(path))
    else:
        full_plan, full_statements = plan, statements
    ctx = LintContext(path.resolve(), options, plan, statements, full_plan, full_statements)
    if env is not None:
        ctx.env = dict(env)
    ctx.option_blocks = [(o.span.line, o.span.end_line) for o in _declared_options(root.statements).values()]

    findings: list[Diagnostic] = []
    for d in diagnostics:
        if d.code in MAPPED_CODES:
            rule = next(r for r in registry() if r.code == MAPPED_CODES[d.code])
            findings.append(_stamp(d, rule.code, rule.name))
        else:
            findings.append(_stage_finding(d))
    for rule in registry():
        for d in rule.check(ctx) or ():
            findings.append(_stamp(d, rule.code, rule.name))
    findings = [d for d in findings if not _suppressed(d)]
    return sorted(findings, key=lambda d: (d.span.file != str(path) and d.span.file != ctx.file,
                                           d.span.file, d.span.line, d.span.column, d.code or ""))


def _stage_finding(d: Diagnostic) -> Diagnostic:
    """A parser's or compiler's diagnostic as a finding, under its code's name (every stage
    diagnostic has a code: tests/crosscheck/test_diagnostic_codes.py)."""
    code = d.code or "DS001"
    return _stamp(d, code, CODES.get(code, "compiler"))


# `# deidc: ignore[DL003] why` on a line silences those codes there; `ignore-file[...]` anywhere
# silences them in the whole file. A suppression names its codes and says why (documented).
_SUPPRESSION = regex.compile(r"#\s*deidc:\s*ignore(-file)?\[([A-Z0-9, ]+)\]\s*\S")


@lru_cache(maxsize=64)
def _suppressions(file: str) -> tuple[dict[int, frozenset[str]], frozenset[str]]:
    lines: dict[int, frozenset[str]] = {}
    whole: set[str] = set()
    text = shown_text(file)  # None for what is no readable rule file (an included binary file)
    if text is None:
        return {}, frozenset()
    for number, line in enumerate(text.splitlines(), 1):
        for m in _SUPPRESSION.finditer(line):
            codes = frozenset(c.strip() for c in m.group(2).split(",") if c.strip())
            if m.group(1):
                whole.update(codes)
            else:
                lines[number] = lines.get(number, frozenset()) | codes
    return lines, frozenset(whole)


def _suppressed(d: Diagnostic) -> bool:
    by_line, whole = _suppressions(d.span.file)
    return d.code in whole or d.code in by_line.get(d.span.line, frozenset())


def finding_json(d: Diagnostic) -> dict[str, Any]:
    name, _, message = d.message.partition(": ")
    return {"file": d.span.file, "line": d.span.line, "column": d.span.column, "code": d.code,
            "name": name, "severity": d.severity, "message": message, "hint": d.hint}


def has_errors(findings: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in findings)


DOCS_HEADER = """# `deidc lint`

<!-- GENERATED from the docstrings of deidc/compiler/lint/dl0nn_*.py by
     `python -m deidc.compiler.lint > docs/lint.md` — do not edit; tests fail when it is stale. -->

`deidc lint RULES... [--option NAME] [--format text|json]` reports every problem in rule files at
once: the compiler's own diagnostics (codes `DCnnn`: unknown keyword with a did-you-mean,
VR-incompatible action, …; syntax errors are `DS001`) and the checks below (`DLnnn`). Each finding
prints as `file:line:col: severity[CODE]: name: message`, the source line with a caret, and a
hint; `--format json` prints a list of objects with `file`, `line`, `column`, `code`, `name`,
`severity`, `message` and `hint`. The exit status is 1 when any finding is an error, else 0.

A finding can be silenced where it is intended, with the reason written next to it:
`# deidc: ignore[DL003] TCIA removes it` on the rule's line, or
`# deidc: ignore-file[DL010] the key is supplied at run time` anywhere in the file.

Findings about rules are reported in the file being linted only: a site file that `use`s a
profile and overrides some of its rules is doing what the precedence model is for. Checks that ask
whether something is used anywhere (DL006, DL007) look at every option block the file declares.

| code | name | severity |
|---|---|---|
"""

SEVERITIES = {
    "DL001": "warning", "DL002": "warning", "DL003": "warning", "DL004": "warning",
    "DL005": "warning", "DL006": "warning", "DL007": "warning", "DL008": "warning",
    "DL009": "warning (mask, name pattern); error (private tag in an even group)",
    "DL010": "warning (variable not set); error (key file missing)", "DL011": "error",
    "DL012": "warning",
}


def docs_markdown() -> str:
    """docs/lint.md: one section per rule, from the rule modules' docstrings."""
    out = [DOCS_HEADER]
    for rule in registry():
        out.append(f"| [{rule.code}](#{rule.code.lower()}-{rule.name}) | `{rule.name}` | "
                   f"{SEVERITIES.get(rule.code, 'warning')} |\n")
    for rule in registry():
        summary, _, body = rule.doc.partition("\n")
        out.append(f"\n## {rule.code} {rule.name}\n\n{summary.strip()}\n")
        lines = body.strip("\n").splitlines()
        text = []
        in_code = False
        for line in lines:
            if line.startswith("    "):
                if not in_code:
                    text.append("```")
                    in_code = True
                text.append(line[4:])
                continue
            if in_code and line.strip() == "":
                text.append("")
                continue
            if in_code:
                while text and text[-1] == "":
                    text.pop()
                text.append("```")
                text.append("")
                in_code = False
            for label in ("What:", "Why:", "Bad:", "Good:"):
                if line.startswith(label):
                    line = f"**{label}**" + line[len(label):]
            text.append(line)
        if in_code:
            while text and text[-1] == "":
                text.pop()
            text.append("```")
        out.append("\n" + "\n".join(text).strip("\n") + "\n")
    out.append("\n## Codes of the other stages\n\n`lint` reports these under the same names as `compile` and "
               "`apply` do (DS: the rule file and its syntax; DC: the compiler; DR: keys, when a run starts).\n\n"
               "| code | name |\n|---|---|\n")
    out.extend(f"| {code} | `{name}` |\n" for code, name in sorted(CODES.items()))
    return "".join(out)
