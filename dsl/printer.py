"""AST → canonical text: what `deidc fmt` prints.

In: the text of a .deid file and its name. Out: the same rules in canonical layout — one
statement per line, block bodies indented four spaces, keywords lower-case, tags upper-case hex
(masks keep a lower-case `x`), strings in double quotes — with every comment kept. Comments are
not in the AST (the grammar ignores them), so they are collected by a lexer callback while
parsing and re-attached by position: an own-line comment goes above the statement that follows
it (inside the same block), a comment after code on a line goes after the statement that ends
there, a comment inside a statement that spans several lines goes above it, and comments after
the last statement of a block or file stay there. At most one blank line is kept where the source
had blank lines between statements.
"""
from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

import lark

from deidc.diagnostics import Span
from deidc.dsl import ast
from deidc.dsl import parser as dsl_parser
from deidc.dsl.source import check_text

INDENT = "    "

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_STRING_BODY = re.compile(r'(?:\\.|[^"\\\n])*')
_INT = re.compile(r"-?[0-9]+")

_Pos = tuple[int, int]
_END: _Pos = (1 << 60, 0)
_Comment = tuple[_Pos, str, bool]  # position, text, on a line of its own


class _Collector:
    """Lexer callbacks append here; reset before each parse (parsing is single-threaded)."""

    def __init__(self) -> None:
        self.comments: list[lark.Token] = []
        self.lbraces: list[_Pos] = []

    def comment(self, tok: lark.Token) -> lark.Token:
        self.comments.append(tok)
        return tok

    def lbrace(self, tok: lark.Token) -> lark.Token:
        self.lbraces.append((tok.line or 0, tok.column or 0))  # always set: positions are propagated
        return tok


_COLLECTOR = _Collector()


@functools.lru_cache(maxsize=1)
def _lark() -> lark.Lark:
    return dsl_parser.new_parser(lexer_callbacks={"COMMENT": _COLLECTOR.comment, "LBRACE": _COLLECTOR.lbrace})


@functools.lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    """Words the grammar uses as keywords: a literal spelled like one is printed quoted."""
    return frozenset(
        t.pattern.value for t in _lark().terminals
        if isinstance(t.pattern, lark.lexer.PatternStr) and t.pattern.value.isalpha()
    ) | {"days", "seconds"}


def parse_with_comments(text: str, path: str) -> tuple[ast.RuleFile, list[lark.Token], list[_Pos]]:
    """Parse like `parse_text` and also return the COMMENT tokens and the `{` positions."""
    text = check_text(text, path)  # the checks parse_text makes before the parse; drops a BOM
    _COLLECTOR.comments, _COLLECTOR.lbraces = [], []
    try:
        tree = _lark().parse(text)
    except lark.exceptions.UnexpectedInput:
        dsl_parser.parse_text(text, path)  # raises DeidError with the usual diagnostic
        raise  # pragma: no cover - parse_text accepts what this parser rejects
    comments, lbraces = _COLLECTOR.comments, _COLLECTOR.lbraces
    _COLLECTOR.comments, _COLLECTOR.lbraces = [], []
    statements = dsl_parser.build_statements(tree, path)
    end = Span(path, 1, 1, max(1, text.count("\n") + 1), 1)
    return ast.RuleFile(path, tuple(statements), end), comments, sorted(lbraces)


def format_text(text: str, path: str = "<string>", *, verify: bool = True) -> str:
    """The canonical form of a .deid file's text; raises `DeidError` on a syntax error.

    With `verify` the result is parsed again and must give the same AST (spans aside), else
    `FormatError` — like black's safety check."""
    text = check_text(text, path)
    rule_file, comments, lbraces = parse_with_comments(text, path)
    out = _Printer(text, comments, lbraces).file(rule_file)
    if verify:
        again = dsl_parser.parse_text(out, path)
        if strip_spans(again) != strip_spans(rule_file):
            raise FormatError(f"{path}: formatting would change the meaning of the file (a bug in deidc fmt)")
    return out


class FormatError(Exception):
    """The canonical text would parse differently from the source (a printer bug)."""


def strip_spans(node: object) -> object:
    """The AST with every span set to None and mask texts normalised, for comparing two parses."""
    if isinstance(node, tuple):
        return tuple(strip_spans(n) for n in node)
    if isinstance(node, list):
        return [strip_spans(n) for n in node]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        values: dict[str, object] = {}
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if f.name == "span":
                value = None
            elif isinstance(node, ast.TagMask) and f.name == "text":
                value = mask_text(value)
            else:
                value = strip_spans(value)
            values[f.name] = value
        if isinstance(node, ast.RuleFile):
            values["path"] = None
        return type(node)(**values)
    return node


# ---- pieces of text ---------------------------------------------------------------------------


def quote(value: str) -> str:
    """A STRING token whose parsed value is `value`, escaping as little as possible."""
    for body in (value, value.replace('"', '\\"'),
                 value.replace("\\", "\\\\").replace('"', '\\"')):
        if _STRING_BODY.fullmatch(body) and _unquote(body) == value:
            return f'"{body}"'
    raise ValueError(f"cannot write {value!r} as a string")  # pragma: no cover - newline in value


def _unquote(body: str) -> str:  # the parser's `_string`
    return body.replace('\\"', '"').replace("\\\\", "\\")


def regex_text(pattern: str, flags: str) -> str:
    return "/" + pattern.replace("/", "\\/") + "/" + flags


def mask_text(text: str) -> str:
    """`(60XX,3000)` → `(60xx,3000)`: hex digits upper-case, wildcards lower-case."""
    inner = re.sub(r"\s+", "", text)
    return "".join(c.lower() if c in "xX" else c.upper() for c in inner)


def element_text(e: ast.ElementRef) -> str:
    if isinstance(e, ast.Keyword):
        return e.name
    if isinstance(e, ast.Tag):
        return f"({e.group:04X},{e.element:04X})"
    if isinstance(e, ast.TagMask):
        return mask_text(e.text)
    if isinstance(e, ast.PrivateTag):
        return f'({e.group:04X},"{e.creator}",{e.low_byte:02X})'
    raise TypeError(f"not an element reference: {e!r}")


def selector_text(s: ast.Selector) -> str:
    if isinstance(s, ast.Path):
        step = s.steps[0]
        if len(s.steps) == 1 and isinstance(step, ast.PathStep):  # `Seq[3]` or `Seq[*]` alone: a path by its index
            return element_text(step.element) + f"[{'*' if step.item is None else step.item}]"
        return "/".join(_step_text(step) for step in s.steps)
    if isinstance(s, ast.VrSelector):
        return "vr " + ", ".join(s.vrs)
    if isinstance(s, ast.NamePattern):
        return "name ~ " + regex_text(s.pattern, s.flags)
    return element_text(s)


def _step_text(step: ast.PathStep | ast.AnyDepth) -> str:
    if isinstance(step, ast.AnyDepth):
        return "*"
    text = element_text(step.element)
    return text if step.item is None else f"{text}[{step.item}]"


def selectors_text(selectors: Iterable[ast.Selector]) -> str:
    return ", ".join(selector_text(s) for s in selectors)


def _using(key: str | None) -> str:
    return f" using {key}" if key is not None else ""


def action_text(a: ast.Action) -> str:
    simple = {ast.Keep: "keep", ast.Remove: "remove", ast.Empty: "empty", ast.Dummy: "dummy"}
    if type(a) in simple:
        return simple[type(a)]
    if isinstance(a, ast.ReplaceConstant):
        return f"replace {quote(a.value)}"
    if isinstance(a, ast.ReplaceFrom):
        return f"replace {element_text(a.source)}"
    if isinstance(a, ast.KeyedHash):
        return "hash" + _using(a.key)
    if isinstance(a, ast.Pseudonym):
        return f"pseudonym {quote(a.template)}" + _using(a.key)
    if isinstance(a, ast.Lookup):
        return f"lookup {quote(a.table)} else {action_text(a.fallback)}"
    if isinstance(a, ast.Shift):
        return f"shift {a.param}"
    if isinstance(a, ast.RemapUid):
        root = f" root {quote(a.root)}" if a.root is not None else ""
        return "remap uid" + root + _using(a.key)
    if isinstance(a, ast.Quarantine):
        return "quarantine" + (f" {quote(a.reason)}" if a.reason is not None else "")
    if isinstance(a, ast.Clean):
        matchers = ", ".join(_matcher_text(m) for m in a.matchers)
        return f"clean {a.phi}" + (f" {matchers}" if matchers else "")
    raise TypeError(f"not an action: {a!r}")


def _matcher_text(m: ast.CleanMatcher) -> str:
    if isinstance(m, ast.FuzzyMatcher):
        return f"fuzzy {m.threshold}"
    if isinstance(m, ast.ExactMatcher):
        return "exact"
    if isinstance(m, ast.RegexMatcher):
        return "regex " + ", ".join(m.patterns)
    if isinstance(m, ast.DateMatcher):
        return "dates remove" if m.shift is None else f"dates shift {m.shift}"
    if isinstance(m, ast.DetectMatcher):
        return "detect " + ", ".join(m.detectors)
    raise TypeError(f"not a clean matcher: {m!r}")


def literal_text(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    if _NAME.fullmatch(value) and value.lower() not in _keywords():
        return value
    return quote(value)


def condition_text(c: ast.Condition) -> str:
    if isinstance(c, ast.Equals):
        return f"{element_text(c.attribute)} = {literal_text(c.value)}"
    if isinstance(c, ast.NotEquals):
        return f"{element_text(c.attribute)} != {literal_text(c.value)}"
    if isinstance(c, ast.OneOf):
        return f"{element_text(c.attribute)} in ({', '.join(literal_text(v) for v in c.values)})"
    if isinstance(c, ast.Matches):
        return f"{element_text(c.attribute)} ~ {regex_text(c.pattern, c.flags)}"
    if isinstance(c, ast.Exists):
        return f"exists {element_text(c.attribute)}"
    if isinstance(c, ast.AllOf):
        return " and ".join(
            f"({condition_text(i)})" if isinstance(i, (ast.AnyOf, ast.AllOf)) else condition_text(i)
            for i in c.items)
    if isinstance(c, ast.AnyOf):
        return " or ".join(
            f"({condition_text(i)})" if isinstance(i, ast.AnyOf) else condition_text(i)
            for i in c.items)
    if isinstance(c, ast.Negation):
        inner = condition_text(c.item)
        return f"not ({inner})" if isinstance(c.item, (ast.AllOf, ast.AnyOf)) else f"not {inner}"
    raise TypeError(f"not a condition: {c!r}")


def param_value_text(v: ast.ParamValue) -> str:
    if isinstance(v, ast.StringValue):
        return quote(v.value)
    if isinstance(v, ast.IntValue):
        return str(v.value)
    if isinstance(v, ast.SecretEnv):
        return f"secret({quote(v.variable)})"
    if isinstance(v, ast.SecretFile):
        return f"secret(file {quote(v.path)})"
    if isinstance(v, ast.ShiftSpec):
        return f"{v.unit}(hmac({v.key}, {element_text(v.source)}), {v.low}..{v.high})"
    raise TypeError(f"not a parameter value: {v!r}")


def _box(box: Iterable[int]) -> str:
    return ", ".join(str(n) for n in box)


def simple_statement_text(s: object) -> str:
    """One line for a statement without a body (or a block entry)."""
    if isinstance(s, ast.Version):
        return f"version {s.number}"
    if isinstance(s, ast.Use):
        return f"use {quote(s.profile)}" + (f" with {', '.join(s.options)}" if s.options else "")
    if isinstance(s, ast.Include):
        return f"include {quote(s.path)}"
    if isinstance(s, ast.Param):
        return f"{s.name} = {param_value_text(s.value)}"
    if isinstance(s, ast.Markers):
        parts = ["markers"]
        if s.method is not None:
            parts.append(quote(s.method))
        if s.codes:
            parts.append("codes " + ", ".join(str(c) for c in s.codes))
        return " ".join(parts)
    if isinstance(s, ast.Rule):
        excepts = f" except {selectors_text(s.excepts)}" if s.excepts else ""
        return f"{selectors_text(s.selectors)}{excepts} -> {action_text(s.action)}"
    if isinstance(s, ast.DefaultRule):
        return f"default -> {action_text(s.action)}"
    if isinstance(s, ast.PrivateDefault):
        return f"private * -> {action_text(s.action)}"
    if isinstance(s, ast.UnknownDefault):
        return f"unknown * -> {action_text(s.action)}"
    if isinstance(s, ast.QuarantineStatement):
        return f"quarantine {quote(s.reason)}"
    if isinstance(s, ast.Collect):
        return f"collect {selectors_text(s.selectors)} as {s.name}"
    if isinstance(s, ast.PrivateEntry):
        # Always `;`: after an action the lexer reads a following `A0` as a NAME, not a low byte.
        byte = "*" if s.low_byte is None else f"{s.low_byte:02X}"
        return f"{byte} -> {action_text(s.action)};"
    if isinstance(s, ast.OcrRedact):
        return (f"ocr -> redact {s.phi}" + (f" fuzzy {s.fuzzy}" if s.fuzzy is not None else "")
                + (f" detect {', '.join(s.detectors)}" if s.detectors else ""))
    if isinstance(s, ast.RegionFill):
        return f"region {_box(s.box)} -> fill {s.value}"
    if isinstance(s, ast.HeaderRegionsFill):
        return f"header regions -> fill {s.value}"
    if isinstance(s, ast.RedactAllText):
        return f"redact all text in region {_box(s.box)}"
    if isinstance(s, ast.AllowLossy):
        return f"allow lossy quality {s.quality}"
    raise TypeError(f"not a statement: {s!r}")


def block_header(s: object) -> str | None:
    """`when X {`-style opening line, or None when `s` has no body."""
    if isinstance(s, ast.Option):
        return f"option {s.name} {{"
    if isinstance(s, ast.PrivateBlock):
        return f"private {quote(s.creator)} {{"
    if isinstance(s, ast.When):
        return f"when {condition_text(s.condition)} {{"
    if isinstance(s, ast.Pixels):
        where = f" where {condition_text(s.condition)}" if s.condition is not None else ""
        return f"pixels{where} {{"
    return None


def block_body(s: ast.Option | ast.PrivateBlock | ast.When | ast.Pixels) -> tuple[Any, ...]:
    if isinstance(s, ast.PrivateBlock):
        return s.entries
    return s.statements


# ---- layout with comments ---------------------------------------------------------------------


class _Printer:
    def __init__(self, text: str, comments: list[lark.Token], lbraces: list[_Pos]) -> None:
        lines = text.split("\n")
        self.blank_before = [0]  # blank_before[n]: blank lines among source lines 1..n
        for line in lines:
            self.blank_before.append(self.blank_before[-1] + (not line.strip()))
        self.comments: list[_Comment] = [((c.line or 0, c.column or 0), str(c).rstrip(), _own_line(lines, c))
                                         for c in comments]
        self.next_comment = 0
        self.lbraces = lbraces
        self.out: list[str] = []
        self.last_line = 0  # source line of the last item printed in the current list

    def file(self, rule_file: ast.RuleFile) -> str:
        self._list(rule_file.statements, 0, _END)
        while self.out and not self.out[-1]:
            self.out.pop()
        return "\n".join(self.out) + "\n" if self.out else ""

    # comments
    def _peek(self) -> _Comment | None:
        return self.comments[self.next_comment] if self.next_comment < len(self.comments) else None

    def _take_before(self, pos: _Pos) -> list[_Comment]:
        taken: list[_Comment] = []
        while (c := self._peek()) is not None and c[0] < pos:
            taken.append(c)
            self.next_comment += 1
        return taken

    def _trailing(self, line: int, before: _Pos) -> str:
        """Comments after code on `line` that come before `before`, as a suffix."""
        c = self._peek()
        if c is not None and c[0][0] == line and c[0] < before:
            self.next_comment += 1
            return "  " + c[1]
        return ""

    def _blank_between(self, after_line: int, before_line: int) -> bool:
        if after_line <= 0 or before_line <= after_line + 1:
            return False
        return self.blank_before[before_line - 1] - self.blank_before[after_line] > 0

    def _emit(self, indent: int, text: str, source_line: int, first_in_list: bool) -> None:
        if not first_in_list and self._blank_between(self.last_line, source_line):
            self.out.append("")
        self.out.append(INDENT * indent + text)

    # statements
    def _list(self, statements: Sequence[Any], indent: int, end: _Pos) -> None:
        """Print a statement list and the comments before `end` (a block's `}` or end of file)."""
        first = True
        saved_last = self.last_line
        for k, stmt in enumerate(statements):
            start = (stmt.span.line, stmt.span.column)
            nxt = (statements[k + 1].span.line, statements[k + 1].span.column) \
                if k + 1 < len(statements) else end
            for pos, text, _own in self._take_before(start):
                self._emit(indent, text, pos[0], first)
                first, self.last_line = False, pos[0]
            self._statement(stmt, indent, nxt, first)
            first = False
        for pos, text, _own in self._take_before(end):
            self._emit(indent, text, pos[0], first)
            first, self.last_line = False, pos[0]
        if indent:
            self.last_line = saved_last

    def _statement(self, stmt: Any, indent: int, nxt: _Pos, first: bool) -> None:
        """`stmt`: a statement, a private block entry or a pixels statement (all have a span)."""
        span = stmt.span
        header = block_header(stmt)
        if header is None:
            inner = self._take_before((span.end_line, 0))
            for _pos, text, _own in inner:  # comments inside a multi-line statement go above
                self._emit(indent, text, span.line, first)
                first, self.last_line = False, span.line
            line = simple_statement_text(stmt) + self._trailing(span.end_line, nxt)
            self._emit(indent, line, span.line, first)
            self.last_line = span.end_line
            return
        close: _Pos = (span.end_line, span.end_column - 1)
        i = bisect.bisect_left(self.lbraces, (span.line, span.column))
        brace = self.lbraces[i] if i < len(self.lbraces) else close
        for _pos, text, _own in self._take_before((brace[0], 0)):  # inside a multi-line header
            self._emit(indent, text, span.line, first)
            first, self.last_line = False, span.line
        body = block_body(stmt)
        c = self._peek()
        has_comments = c is not None and c[0] < close
        if not body and not has_comments:
            self._emit(indent, header[:-1] + "{}" + self._trailing(span.end_line, nxt), span.line, first)
            self.last_line = span.end_line
            return
        body_start = (body[0].span.line, body[0].span.column) if body else close
        self._emit(indent, header + self._trailing(brace[0], body_start), span.line, first)
        self.last_line = brace[0]
        self._list(body, indent + 1, close)
        self.out.append(INDENT * indent + "}" + self._trailing(span.end_line, nxt))
        self.last_line = span.end_line


def _own_line(lines: list[str], tok: lark.Token) -> bool:
    return not lines[(tok.line or 1) - 1][: (tok.column or 1) - 1].strip()
