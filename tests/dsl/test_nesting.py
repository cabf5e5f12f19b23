"""Nesting limits of the rule language: blocks, conditions and `lookup ... else` chains nested
deeper than MAX_NESTING are refused right after parsing with the usual positioned diagnostic
(file:line:col, the source line, a caret under the construct that goes too deep, a hint) — never
a RecursionError — and long flat chains (`a or b or c ...`) are not nesting at all."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deidc.diagnostics import DeidError
from deidc.dsl import ast
from deidc.dsl.nesting import MAX_NESTING
from deidc.dsl.parser import parse_text
from deidc.dsl.printer import format_text

DEIDC = Path(sys.executable).parent / "deidc"


def nested_when(depth: int) -> str:
    return 'version 1\n' + 'when Modality = "CT" {\n' * depth + 'PatientName -> remove\n' + '}\n' * depth


def nested_option(depth: int) -> str:
    return 'version 1\n' + "option o {\n" * depth + "PatientName -> remove\n" + "}\n" * depth


def nested_not(depth: int) -> str:
    return 'version 1\nwhen ' + "not " * depth + 'Modality = "CT" { PatientName -> remove }\n'


def nested_and_or(depth: int) -> str:
    """`(A and (A or (A and ...)))`: each level changes operator, so each is one more level."""
    ops = ["and", "or"] * depth
    return ('version 1\nwhen ' + "".join(f'(Modality = "CT" {op} ' for op in ops[:depth]) + 'Modality = "CT"'
            + ")" * depth + " { PatientName -> remove }\n")


def nested_lookup(depth: int) -> str:
    return 'version 1\nPatientName -> ' + 'lookup "t.csv" else ' * depth + "remove\n"


def error_of(text: str, path: str = "deep.deid"):
    with pytest.raises(DeidError) as info:
        parse_text(text, path)
    [diag] = info.value.diagnostics
    return diag


def test_500_nested_when_blocks_give_a_positioned_diagnostic():
    text = nested_when(500)
    diag = error_of(text)
    assert (diag.severity, diag.code) == ("error", "DS001")
    line = 2 + MAX_NESTING  # the first `when` too deep: version 1 is line 1
    assert (diag.span.file, diag.span.line, diag.span.column, diag.span.end_column) == ("deep.deid", line, 1, 5)
    assert diag.message == f"syntax error: blocks nested more than {MAX_NESTING} deep"
    assert "combine" in diag.hint
    assert diag.render(text).splitlines() == [
        f"deep.deid:{line}:1: error[DS001]: syntax error: blocks nested more than {MAX_NESTING} deep",
        f"  {line} | when Modality = \"CT\" {{",
        f"  {' ' * len(str(line))} | ^^^^",
        f"  hint: {diag.hint}",
    ]


@pytest.mark.parametrize("make, keyword", [(nested_when, "when"), (nested_option, "option")])
def test_blocks_up_to_the_limit_parse(make, keyword):
    rule_file = parse_text(make(MAX_NESTING))
    depth, node = 0, rule_file.statements[-1]
    while isinstance(node, (ast.When, ast.Option)):
        depth, node = depth + 1, node.statements[0]
    assert depth == MAX_NESTING and isinstance(node, ast.Rule)
    diag = error_of(make(MAX_NESTING + 1))
    assert (diag.span.line, diag.span.column, diag.span.end_column) == (2 + MAX_NESTING, 1, 1 + len(keyword))


def test_a_deep_condition_points_at_the_level_that_goes_too_deep():
    diag = error_of(nested_not(500))
    assert diag.message == f"syntax error: condition nested more than {MAX_NESTING} deep"
    column = len("when ") + 4 * MAX_NESTING + 1  # the first `not` too deep
    assert (diag.span.line, diag.span.column, diag.span.end_column) == (2, column, column + 3)
    assert "simplify" in diag.hint
    assert isinstance(parse_text(nested_not(MAX_NESTING)).statements[-1].condition, ast.Negation)


def test_alternating_and_or_nesting_is_limited_too():
    assert error_of(nested_and_or(500)).message == f"syntax error: condition nested more than {MAX_NESTING} deep"
    parse_text(nested_and_or(MAX_NESTING))  # at the limit: accepted


def test_deep_parentheses_alone_add_no_level():
    text = 'version 1\nwhen ' + "(" * 500 + 'Modality = "CT"' + ")" * 500 + " { PatientName -> remove }\n"
    condition = parse_text(text).statements[-1].condition
    assert isinstance(condition, ast.Equals)


def test_a_long_flat_or_chain_is_one_level():
    text = 'version 1\nwhen ' + " or ".join(f'Modality = "M{i}"' for i in range(2000)) + " { PatientName -> remove }\n"
    condition = parse_text(text).statements[-1].condition
    assert isinstance(condition, ast.AnyOf) and len(condition.items) == 2000
    assert condition.items[-1].value == "M1999"


def test_a_deep_lookup_chain_is_limited():
    diag = error_of(nested_lookup(500))
    assert diag.message == f"syntax error: `lookup ... else` chain nested more than {MAX_NESTING} deep"
    column = len("PatientName -> ") + len('lookup "t.csv" else ') * MAX_NESTING + 1
    assert (diag.span.line, diag.span.column, diag.span.end_column) == (2, column, column + 6)


def test_the_formatter_gives_the_same_diagnostic():
    with pytest.raises(DeidError) as info:
        format_text(nested_when(500), "deep.deid")
    assert info.value.diagnostics[0] == error_of(nested_when(500))


@pytest.mark.parametrize("command, status", [("compile", 2), ("lint", 1)])
def test_cli_prints_the_diagnostic_without_a_traceback(tmp_path, command, status):
    """`compile` exits 2 on any rule error; `lint` exits 1 when a finding is an error (docs/lint.md)."""
    rules = tmp_path / "deep.deid"
    rules.write_text(nested_when(500), encoding="utf-8")
    done = subprocess.run([str(DEIDC), command, str(rules)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DEIDC_CACHE": "off"})
    output = done.stdout + done.stderr
    assert done.returncode == status, output
    assert "Traceback" not in output and "RecursionError" not in output
    assert f"{rules}:{2 + MAX_NESTING}:1: error[DS001]: " in output
    assert f"blocks nested more than {MAX_NESTING} deep" in output
    assert "^^^^" in output
