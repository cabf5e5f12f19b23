"""Parser golden tests: every tests/dsl/golden/NAME.deid parses to the AST dumped in NAME.ast.txt.

The dump is an indented tree of the AST dataclasses without spans (spans are checked separately
below, node by node). Regenerate the goldens after an intended change with

    UPDATE_GOLDEN=1 python -m pytest tests/dsl/test_parser_golden.py

and review the diff.
"""
from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path

import pytest

from deidc.diagnostics import Span
from deidc.dsl import ast
from deidc.dsl.parser import parse_file, parse_text

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
CASES = sorted(p.stem for p in GOLDEN_DIR.glob("*.deid"))



# ---- the dumper ------------------------------------------------------------------------------


def _is_node(value) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, (type, Span))


def _scalar(value) -> bool:
    return not _is_node(value) and not (isinstance(value, tuple) and any(_is_node(v) for v in value))


# Tag numbers read better in hex: (field, width) per node type.
HEX_FIELDS = {
    ast.Tag: {"group": 4, "element": 4},
    ast.TagMask: {"value": 8, "care": 8},
    ast.PrivateTag: {"group": 4, "low_byte": 2},
    ast.PrivateEntry: {"low_byte": 2},
}


def _show(node, name: str, value) -> str:
    width = HEX_FIELDS.get(type(node), {}).get(name)
    if width and isinstance(value, int):
        return f"0x{value:0{width}X}"
    return repr(value)


def dump(node, indent: int = 0) -> list[str]:
    """One node per line, fields in declaration order, spans left out."""
    pad = "  " * indent
    if not _is_node(node):
        return [f"{pad}!! not an AST node: {node!r}"]
    fields = [(f.name, getattr(node, f.name)) for f in dataclasses.fields(node) if f.name != "span"]
    simple = [f"{name}={_show(node, name, value)}" for name, value in fields if _scalar(value)]
    lines = [f"{pad}{type(node).__name__}" + (f"({', '.join(simple)})" if simple else "")]
    for name, value in fields:
        if _scalar(value):
            continue
        if isinstance(value, tuple):
            lines.append(f"{pad}  {name}:")
            for item in value:
                lines.extend(dump(item, indent + 2))
        else:
            lines.append(f"{pad}  {name}:")
            lines.extend(dump(value, indent + 2))
    return lines


def dump_file(rule_file: ast.RuleFile) -> str:
    lines = []
    for st in rule_file.statements:
        lines.extend(dump(st))
    return "\n".join(lines) + "\n"


def _walk(node):
    yield node
    if _is_node(node):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            for item in value if isinstance(value, tuple) else (value,):
                if _is_node(item):
                    yield from _walk(item)


# ---- golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_golden_ast(name):
    source = GOLDEN_DIR / f"{name}.deid"
    golden = GOLDEN_DIR / f"{name}.ast.txt"
    actual = dump_file(parse_file(source))
    if UPDATE:
        golden.write_text(actual, encoding="utf-8")
    assert golden.is_file(), f"missing {golden.name}; run with UPDATE_GOLDEN=1"
    assert actual == golden.read_text(encoding="utf-8")


def test_every_golden_source_has_a_golden():
    assert CASES, "no golden sources found"
    missing = [n for n in CASES if not (GOLDEN_DIR / f"{n}.ast.txt").is_file()]
    orphans = [p.name for p in GOLDEN_DIR.glob("*.ast.txt") if p.name.removesuffix(".ast.txt") not in CASES]
    assert missing == [] and orphans == []


def test_goldens_cover_every_ast_node_type():
    """Every construct of the grammar has a node type; every node type appears in some golden."""
    all_types = {
        obj for obj in vars(ast).values()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == ast.__name__
    } - {ast.RuleFile}
    seen = set()
    for name in CASES:
        for st in parse_file(GOLDEN_DIR / f"{name}.deid").statements:
            seen.update(type(n) for n in _walk(st))
    assert sorted(t.__name__ for t in all_types - seen) == []


@pytest.mark.parametrize("name", CASES)
def test_every_statement_is_an_ast_node(name):
    statement_types = typing.get_args(ast.Statement)
    for st in parse_file(GOLDEN_DIR / f"{name}.deid").statements:
        assert isinstance(st, statement_types), st


def test_dump_shows_foreign_objects():
    """The dumper must not hide a non-AST object (that is how the `;` bug shows in a golden)."""
    assert dump(("not", "a node")) == ["!! not an AST node: ('not', 'a node')"]


# ---- spans -----------------------------------------------------------------------------------

SPAN_SOURCE = """\
# comment line
PatientName,
    PatientID  # continued
  -> remove
private "ACME" {
  10 -> keep;
  * -> hash
}
ReferencedStudySequence[0]/PatientName -> replace "X"
key = secret("K")
when Modality = MR {
  */Seq[2]/X -> keep
}
"""


def _pos(span: Span) -> tuple[int, int, int, int]:
    return (span.line, span.column, span.end_line, span.end_column)


@pytest.fixture(scope="module")
def span_file() -> ast.RuleFile:
    return parse_text(SPAN_SOURCE, "spans.deid")


def test_span_of_a_rule_over_three_lines(span_file):
    rule = span_file.statements[0]
    assert rule.span.file == "spans.deid"
    assert _pos(rule.span) == (2, 1, 4, 12)
    assert _pos(rule.selectors[0].span) == (2, 1, 2, 12)
    assert _pos(rule.selectors[1].span) == (3, 5, 3, 14)
    assert _pos(rule.action.span) == (4, 6, 4, 12)


def test_span_of_private_block_and_entries(span_file):
    block = span_file.statements[1]
    assert _pos(block.span) == (5, 1, 8, 2)
    assert _pos(block.entries[0].span) == (6, 3, 6, 14)  # the optional `;` belongs to the entry
    assert _pos(block.entries[0].action.span) == (6, 9, 6, 13)
    assert _pos(block.entries[1].span) == (7, 3, 7, 12)


def test_span_of_path_and_its_steps(span_file):
    path = span_file.statements[2].selectors[0]
    assert _pos(path.span) == (9, 1, 9, 39)
    assert _pos(path.steps[1].span) == (9, 28, 9, 39)
    assert _pos(span_file.statements[2].action.span) == (9, 43, 9, 54)


def test_span_of_indexed_step_after_any_depth(span_file):
    path = span_file.statements[4].statements[0].selectors[0]
    assert [type(s).__name__ for s in path.steps] == ["AnyDepth", "PathStep", "PathStep"]
    assert _pos(path.steps[0].span) == (12, 3, 12, 4)
    assert _pos(path.steps[1].span) == (12, 5, 12, 11)  # `Seq[2]`, index included
    assert _pos(path.steps[1].element.span) == (12, 5, 12, 8)


def test_span_of_first_indexed_step_includes_the_index(span_file):
    path = span_file.statements[2].selectors[0]
    assert _pos(path.steps[0].span) == (9, 1, 9, 27)


def test_span_of_param_value_and_when(span_file):
    param = span_file.statements[3]
    assert _pos(param.span) == (10, 1, 10, 18)
    assert _pos(param.value.span) == (10, 7, 10, 18)
    when = span_file.statements[4]
    assert _pos(when.span) == (11, 1, 13, 2)
    assert _pos(when.condition.span) == (11, 6, 11, 19)


# ---- grammar corners worth a direct test -----------------------------------------------------


def test_comma_after_regex_matcher_starts_the_next_matcher():
    action = parse_text("ImageComments -> clean phi regex /a/, exact").statements[0].action
    assert [type(m).__name__ for m in action.matchers] == ["RegexMatcher", "ExactMatcher"]
    assert action.matchers[0].patterns == ("/a/",)


def test_regex_matcher_without_comma_before_next_matcher():
    action = parse_text("ImageComments -> clean phi regex /a/ exact").statements[0].action
    assert [type(m).__name__ for m in action.matchers] == ["RegexMatcher", "ExactMatcher"]


def test_empty_and_comment_only_files_have_no_statements():
    assert parse_text("").statements == ()
    assert parse_text("  \n# only a comment\n\n").statements == ()


def test_tag_mask_value_and_care():
    mask = parse_text("(60Xx,3000) -> remove").statements[0].selectors[0]
    assert isinstance(mask, ast.TagMask)
    assert (mask.value, mask.care, mask.text) == (0x60003000, 0xFF00FFFF, "(60Xx,3000)")


def test_string_escapes_are_decoded():
    action = parse_text(r'PatientName -> replace "a \"b\" c\\d"').statements[0].action
    assert action.value == 'a "b" c\\d'
