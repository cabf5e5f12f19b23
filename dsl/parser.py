"""Text → AST.

In: the text of a .deid file and its name. Out: a `RuleFile` of frozen dataclasses with spans
(`deidc.dsl.ast`), or a `DeidError` whose diagnostic gives `file:line:col`, the source line, a
caret and what was expected. Known mistakes get a specific message, found by example with
Lark's `match_examples` (the examples double as test data).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import lark
import regex
from lark import Token, Transformer_NonRecursive, v_args
from lark.tree import Meta

from deidc.diagnostics import DeidError, Diagnostic, Span
from deidc.dsl import ast
from deidc.dsl.nesting import check_nesting
from deidc.dsl.source import check_text, read_rule_file
from deidc.resources import GRAMMAR_PATH

# message → snippets that produce it. Order matters: the first matching message wins.
SYNTAX_ERROR_EXAMPLES: dict[str, list[str]] = {
    "missing '->' between the selector and the action": [
        "PatientName remove",
        "PatientName keep",
        "(0010,0010) remove",
        "vr DA shift s",
        "PatientName, PatientID empty",
    ],
    "unknown action": [
        "PatientName -> delete",
        "PatientName -> blank",
        "PatientName -> ",
        "(0010,0010) -> foo",
    ],
    "a tag must be written (gggg,eeee) with four hex digits on each side": [
        "(0010,010) -> remove",
        "(10,0010) -> remove",
        "(0010 0010) -> remove",
        "(0010,001G) -> remove",
    ],
    "a string is not closed": [
        'PatientName -> replace "abc',
        'use "ps3.15-basic',
    ],
    "a block is not closed with '}'": [
        'private "X" { 01 -> keep',
        "when Modality = MR { PatientName -> keep",
        "option x { PatientName -> keep",
    ],
}


def action_keywords(grammar: str) -> list[str]:
    """The words that start an action, once each, in the order grammar.lark's `?action` rule
    lists them: each alternative's leading literals (`"remap" "uid" uid_root? using?` → remap uid).
    The actions are declared in compiler/action_specs.py, which the parser cannot import (dsl/
    sits below compiler/); tests/compiler/test_action_specs.py checks the two agree."""
    rule = regex.search(r"^\?action:(.*\n(?:[ \t]+\|.*\n)*)", grammar, regex.M)
    if rule is None:
        raise ValueError("grammar.lark has no `?action:` rule")
    words: list[str] = []
    for alternative in rule.group(1).splitlines():
        lead = regex.match(r'\s*\|?\s*((?:"[^"]+"\s*)+)', alternative)
        if lead is not None:
            words.append(" ".join(regex.findall(r'"([^"]+)"', lead.group(1))))
    return list(dict.fromkeys(words))


HINTS: dict[str, str] = {
    "missing '->' between the selector and the action": "write a rule as `SELECTOR -> ACTION`, e.g. `PatientName -> empty`",
    "unknown action": "actions are " + ", ".join(action_keywords(GRAMMAR_PATH.read_text(encoding="utf-8"))),
    "a tag must be written (gggg,eeee) with four hex digits on each side": "e.g. (0010,0010); use x for any digit, as in (50xx,xxxx)",
    "a string is not closed": 'strings are written in double quotes on one line, e.g. "ANONYMOUS"',
    "a block is not closed with '}'": "every `{` opened by private, option, when or pixels needs a matching `}`",
}

_TOKEN_NAMES = {
    "NAME": "a name", "STRING": "a string",
    "INT": "a number", "SIGNED_INT": "a number", "TAG": "a tag (gggg,eeee)",
    "PRIVATE_TAG": 'a private tag (gggg,"CREATOR",ee)', "VR_LIST": "a VR such as DA",
    "REGEX": "a /regex/", "LOW_BYTE": "a low byte such as 10", "$END": "end of file",
}


def new_parser(**options: Any) -> lark.Lark:
    """A Lark parser for grammar.lark with deidc's settings; `options` adds to them (the
    formatter adds lexer callbacks that collect comments)."""
    return lark.Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True,
                     maybe_placeholders=False, **options)


@functools.lru_cache(maxsize=1)
def _lark() -> lark.Lark:
    return new_parser(cache=True)  # Lark keys the cached LALR tables on the grammar text


def parse_text(text: str, path: str = "<string>") -> ast.RuleFile:
    """Parse the text of a .deid file into a `RuleFile`; raise `DeidError` on a syntax error.
    The checks of `deidc.dsl.source` (control characters, size, line length) run first, and a
    leading BOM is dropped, so columns count from the first real character."""
    text = check_text(text, path)
    try:
        tree = _lark().parse(text)
    except lark.exceptions.UnexpectedInput as err:
        raise DeidError(_syntax_diagnostic(err, text, path)) from None
    statements = build_statements(tree, path)
    end = Span(path, 1, 1, max(1, text.count("\n") + 1), 1)
    return ast.RuleFile(path, tuple(statements), end)


def build_statements(tree: lark.Tree[Token], path: str) -> list[ast.Statement]:
    """The statements of a parse tree, after the nesting check; raise `DeidError` on an error."""
    check_nesting(tree, path)
    try:
        return _AstBuilder(path).transform(tree)
    except lark.exceptions.VisitError as err:
        if isinstance(err.orig_exc, DeidError):
            raise err.orig_exc from None
        raise


def parse_file(path: str | Path) -> ast.RuleFile:
    """Read and parse a .deid file. Every command reads rules through here (`deidc fmt` through
    `read_rule_file`): a file that is not readable UTF-8 rule text is a diagnostic, never a
    traceback (`deidc.dsl.source`)."""
    p = Path(path)
    return parse_text(read_rule_file(p), str(p))


# A parser situation: the error kind, the LALR state, whether the input ended there.
_Signature = tuple[str, object, bool]


@functools.lru_cache(maxsize=1)
def _example_signatures() -> dict[_Signature, str]:
    """Parser situation → label, from SYNTAX_ERROR_EXAMPLES. A situation is the error kind, the
    LALR state and whether input ended there — not the stack depth, so an example written as a
    first statement also explains the same mistake deep inside a file or a block (Lark's own
    `match_examples` compares stack depths too)."""
    table: dict[_Signature, str] = {}
    for label, snippets in SYNTAX_ERROR_EXAMPLES.items():
        for snippet in snippets:
            try:
                _lark().parse(snippet)
            except lark.exceptions.UnexpectedInput as err:
                table.setdefault(_signature(err), label)
            else:
                raise AssertionError(f"syntax error example parses: {snippet!r}")
    return table


def _signature(err: lark.exceptions.UnexpectedInput) -> _Signature:
    state = getattr(err, "state", None)
    position = getattr(state, "position", None)
    token = getattr(err, "token", None)
    at_end = isinstance(token, Token) and token.type == "$END"
    return type(err).__name__, position, at_end


def example_label(err: lark.exceptions.UnexpectedInput) -> str | None:
    """The SYNTAX_ERROR_EXAMPLES label that explains this error, if any."""
    # Some mistakes are explained by the character where they happen, in any state: a quote
    # that opens no valid string, a '(' where a tag could stand but none could be read.
    char = getattr(err, "char", None) or str(getattr(err, "token", ""))[:1]
    if isinstance(err, lark.exceptions.UnexpectedCharacters) and char == '"':
        return "a string is not closed"
    expected = set(getattr(err, "allowed", None) or getattr(err, "expected", None) or ())
    if char == "(" and {"TAG", "PRIVATE_TAG"} & expected:
        return "a tag must be written (gggg,eeee) with four hex digits on each side"
    return _example_signatures().get(_signature(err))


def _syntax_diagnostic(err: lark.exceptions.UnexpectedInput, text: str, path: str) -> Diagnostic:
    label = example_label(err)
    line, column = getattr(err, "line", 1), getattr(err, "column", 1)
    token = getattr(err, "token", None)
    at_end = isinstance(token, Token) and token.type == "$END"
    if at_end or line is None or line < 1:  # point just after the last character
        lines = text.rstrip("\n").split("\n") if text.strip() else [""]
        line, column = len(lines), len(lines[-1]) + 1
    width = 1
    if isinstance(token, Token) and not at_end and str(token):
        width = max(1, len(str(token).splitlines()[0]))
    span = Span(path, line, column, line, column + width)
    expected = _expected(err)
    if label:
        message, hint = label, HINTS.get(label)
        if expected:
            hint = f"{hint}; expected {expected}" if hint else f"expected {expected}"
    else:
        if at_end:
            found = "end of file"
        elif isinstance(token, Token):
            found = f"'{_shorten(str(token))}'"
        else:
            found = f"'{getattr(err, 'char', '?')}'"
        message = f"unexpected {found}"
        hint = f"expected {expected}" if expected else None
    return Diagnostic("error", f"syntax error: {message}", span, hint=hint, code="DS001")


def _shorten(token: str, limit: int = 40) -> str:
    """A token as a message quotes it: its first line, at most `limit` characters."""
    first = token.split("\n", 1)[0]
    return first if len(first) <= limit and first == token else first[:limit] + "…"


@functools.lru_cache(maxsize=1)
def _literal_terminals() -> dict[str, str]:
    """Terminal name → how to show it, for the anonymous ones Lark makes from strings."""
    return {t.name: f"'{t.pattern.value}'" for t in _lark().terminals
            if isinstance(t.pattern, lark.lexer.PatternStr)}


def _expected(err: lark.exceptions.UnexpectedInput) -> str:
    names = getattr(err, "expected", None) or getattr(err, "allowed", None) or set()
    shown = sorted({_TOKEN_NAMES.get(n) or _literal_terminals().get(n) or n.lower() for n in names})
    if len(shown) > 8:
        shown = shown[:8] + ["…"]
    return ", ".join(shown)


_PATTERN_ITEM = regex.compile(r"/(?:\\.|[^/\\\n])+/[imsx]*|[A-Za-z_][A-Za-z0-9_]*")


def _span(path: str, meta: Meta) -> Span:
    return Span(path, meta.line, meta.column, meta.end_line, meta.end_column)


def _string(tok: Token) -> str:
    body = str(tok)[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


def _regex(tok: Token) -> tuple[str, str]:
    text = str(tok)
    end = text.rfind("/")
    return text[1:end].replace("\\/", "/"), text[end + 1:]


def _literal(item: Token | str | int) -> str | int:
    if isinstance(item, Token):
        if item.type == "STRING":
            return _string(item)
        if item.type in ("INT", "SIGNED_INT"):
            return int(item)
        return str(item)
    return item


def _detector_names(token: Any) -> tuple[str, ...]:
    """A DETECTOR_LIST token (`address, person`) → its names."""
    return tuple(name.strip() for name in str(token).split(","))


@v_args(meta=True)
class _AstBuilder(Transformer_NonRecursive[Token, list[ast.Statement]]):
    """Builds AST nodes from the parse tree; one method per grammar rule or alias. Not recursive:
    a flat chain such as `a or b or c ...` is a left-deep tree as long as the chain."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.source_path = path

    def _s(self, meta: Meta) -> Span:
        return _span(self.source_path, meta)

    def start(self, meta: Meta, items: list[Any]) -> list[ast.Statement]:
        return [i for i in items if not isinstance(i, Token)]

    # statements
    def version(self, meta: Meta, items: list[Any]) -> ast.Version:
        return ast.Version(int(items[0]), self._s(meta))

    def use(self, meta: Meta, items: list[Any]) -> ast.Use:
        options = tuple(items[1]) if len(items) > 1 else ()
        return ast.Use(_string(items[0]), options, self._s(meta))

    def option_names(self, meta: Meta, items: list[Any]) -> list[str]:
        return [str(i) for i in items]

    def include(self, meta: Meta, items: list[Any]) -> ast.Include:
        return ast.Include(_string(items[0]), self._s(meta))

    def option(self, meta: Meta, items: list[Any]) -> ast.Option:
        return ast.Option(str(items[0]), tuple(i for i in items[1:] if not isinstance(i, Token)), self._s(meta))

    def markers(self, meta: Meta, items: list[Any]) -> ast.Markers:
        method = _string(items[0]) if items and items[0].type == "STRING" else None
        codes = tuple(int(i) for i in items if i.type == "INT")
        return ast.Markers(method, codes, self._s(meta))

    def param(self, meta: Meta, items: list[Any]) -> ast.Param:
        return ast.Param(str(items[0]), items[1], self._s(meta))

    def string_value(self, meta: Meta, items: list[Any]) -> ast.StringValue:
        return ast.StringValue(_string(items[0]), self._s(meta))

    def int_value(self, meta: Meta, items: list[Any]) -> ast.IntValue:
        return ast.IntValue(int(items[0]), self._s(meta))

    def secret_env(self, meta: Meta, items: list[Any]) -> ast.SecretEnv:
        return ast.SecretEnv(_string(items[0]), self._s(meta))

    def secret_file(self, meta: Meta, items: list[Any]) -> ast.SecretFile:
        return ast.SecretFile(_string(items[0]), self._s(meta))

    def shift_spec(self, meta: Meta, items: list[Any]) -> ast.ShiftSpec:
        unit, key, source, low, high = items
        return ast.ShiftSpec(str(unit), str(key), source, int(low), int(high), self._s(meta))

    def rule(self, meta: Meta, items: list[Any]) -> ast.Rule:
        selectors = items[0]
        excepts = items[1] if len(items) == 3 else ()
        return ast.Rule(selectors, excepts, items[-1], self._s(meta))

    def default_rule(self, meta: Meta, items: list[Any]) -> ast.DefaultRule:
        return ast.DefaultRule(items[0], self._s(meta))

    def private_default(self, meta: Meta, items: list[Any]) -> ast.PrivateDefault:
        return ast.PrivateDefault(items[0], self._s(meta))

    def unknown_default(self, meta: Meta, items: list[Any]) -> ast.UnknownDefault:
        return ast.UnknownDefault(items[0], self._s(meta))

    def private_block(self, meta: Meta, items: list[Any]) -> ast.PrivateBlock:
        return ast.PrivateBlock(_string(items[0]), tuple(items[1:]), self._s(meta))

    def private_entry(self, meta: Meta, items: list[Any]) -> ast.PrivateEntry:
        if len(items) == 2:
            return ast.PrivateEntry(int(str(items[0]), 16), items[1], self._s(meta))
        return ast.PrivateEntry(None, items[0], self._s(meta))

    def when_block(self, meta: Meta, items: list[Any]) -> ast.When:
        return ast.When(items[0], tuple(i for i in items[1:] if not isinstance(i, Token)), self._s(meta))

    def quarantine_stmt(self, meta: Meta, items: list[Any]) -> ast.QuarantineStatement:
        return ast.QuarantineStatement(_string(items[0]), self._s(meta))

    def collect(self, meta: Meta, items: list[Any]) -> ast.Collect:
        return ast.Collect(items[0], str(items[1]), self._s(meta))

    # selectors
    def selectors(self, meta: Meta, items: list[Any]) -> tuple[ast.Selector, ...]:
        return tuple(items)

    def keyword(self, meta: Meta, items: list[Any]) -> ast.Keyword:
        return ast.Keyword(str(items[0]), self._s(meta))

    def tag(self, meta: Meta, items: list[Any]) -> ast.Tag | ast.TagMask:
        text = str(items[0])
        group, element = (part.strip() for part in text.strip("() \t").split(","))
        span = self._s(meta)
        if "x" in (group + element).lower():
            digits = (group + element).lower()
            value = int(digits.replace("x", "0"), 16)
            care = int("".join("0" if c == "x" else "f" for c in digits), 16)
            return ast.TagMask(f"({group},{element})", value, care, span)
        return ast.Tag(int(group, 16), int(element, 16), span)

    def private_tag(self, meta: Meta, items: list[Any]) -> ast.PrivateTag:
        text = str(items[0]).strip("() \t")
        group, rest = text.split(",", 1)
        creator_part, low = rest.rsplit(",", 1)
        creator = creator_part.strip()[1:-1]
        return ast.PrivateTag(int(group.strip(), 16), creator, int(low.strip(), 16), self._s(meta))

    def vr_selector(self, meta: Meta, items: list[Any]) -> ast.VrSelector:
        vrs = tuple(v.strip() for v in str(items[0]).split(","))
        return ast.VrSelector(vrs, self._s(meta))

    def name_selector(self, meta: Meta, items: list[Any]) -> ast.NamePattern:
        pattern, flags = _regex(items[0])
        return ast.NamePattern(pattern, flags, self._s(meta))

    def path(self, meta: Meta, items: list[Any]) -> ast.Path:
        steps: list[ast.PathStep | ast.AnyDepth] = []
        for item in items:
            if isinstance(item, int) or item is None:  # index directly after the first element
                first = steps[-1]
                assert isinstance(first, ast.PathStep)  # the grammar allows an index only after an element
                span = Span(self.source_path, first.span.line, first.span.column,
                            self._s(meta).end_line, first.span.end_column + len(f"[{'*' if item is None else item}]"))
                steps[-1] = ast.PathStep(first.element, item, span)
            elif isinstance(item, (ast.PathStep, ast.AnyDepth)):
                steps.append(item)
            else:
                steps.append(ast.PathStep(item, None, item.span))
        return ast.Path(tuple(steps), self._s(meta))

    def step(self, meta: Meta, items: list[Any]) -> ast.PathStep:
        index = items[1] if len(items) > 1 else None
        return ast.PathStep(items[0], index, self._s(meta))

    def any_depth(self, meta: Meta, items: list[Any]) -> ast.AnyDepth:
        return ast.AnyDepth(self._s(meta))

    def item_index(self, meta: Meta, items: list[Any]) -> int | None:
        return int(items[0]) if items else None

    # actions
    def keep(self, meta: Meta, items: list[Any]) -> ast.Keep:
        return ast.Keep(self._s(meta))

    def remove(self, meta: Meta, items: list[Any]) -> ast.Remove:
        return ast.Remove(self._s(meta))

    def empty(self, meta: Meta, items: list[Any]) -> ast.Empty:
        return ast.Empty(self._s(meta))

    def dummy(self, meta: Meta, items: list[Any]) -> ast.Dummy:
        return ast.Dummy(self._s(meta))

    def replace_constant(self, meta: Meta, items: list[Any]) -> ast.ReplaceConstant:
        return ast.ReplaceConstant(str(_literal(items[0])), self._s(meta))

    def replace_from(self, meta: Meta, items: list[Any]) -> ast.ReplaceFrom:
        return ast.ReplaceFrom(items[0], self._s(meta))

    def using(self, meta: Meta, items: list[Any]) -> str:
        return str(items[0])

    def uid_root(self, meta: Meta, items: list[Any]) -> tuple[str, str]:
        return ("root", _string(items[0]))

    def keyed_hash(self, meta: Meta, items: list[Any]) -> ast.KeyedHash:
        return ast.KeyedHash(items[0] if items else None, self._s(meta))

    def pseudonym(self, meta: Meta, items: list[Any]) -> ast.Pseudonym:
        return ast.Pseudonym(_string(items[0]), items[1] if len(items) > 1 else None, self._s(meta))

    def lookup(self, meta: Meta, items: list[Any]) -> ast.Lookup:
        return ast.Lookup(_string(items[0]), items[1], self._s(meta))

    def shift(self, meta: Meta, items: list[Any]) -> ast.Shift:
        return ast.Shift(str(items[0]), self._s(meta))

    def remap_uid(self, meta: Meta, items: list[Any]) -> ast.RemapUid:
        root = next((i[1] for i in items if isinstance(i, tuple)), None)
        key = next((i for i in items if isinstance(i, str)), None)
        return ast.RemapUid(root, key, self._s(meta))

    def quarantine(self, meta: Meta, items: list[Any]) -> ast.Quarantine:
        return ast.Quarantine(_string(items[0]) if items else None, self._s(meta))

    def clean(self, meta: Meta, items: list[Any]) -> ast.Clean:
        return ast.Clean(str(items[0]), tuple(items[1:]), self._s(meta))

    def fuzzy_matcher(self, meta: Meta, items: list[Any]) -> ast.FuzzyMatcher:
        return ast.FuzzyMatcher(int(items[0]), self._s(meta))

    def exact_matcher(self, meta: Meta, items: list[Any]) -> ast.ExactMatcher:
        return ast.ExactMatcher(self._s(meta))

    def regex_matcher(self, meta: Meta, items: list[Any]) -> ast.RegexMatcher:
        return ast.RegexMatcher(tuple(_PATTERN_ITEM.findall(str(items[0]))), self._s(meta))

    def date_matcher(self, meta: Meta, items: list[Any]) -> ast.DateMatcher:
        return ast.DateMatcher(str(items[0]) if items else None, self._s(meta))

    def detect_matcher(self, meta: Meta, items: list[Any]) -> ast.DetectMatcher:
        return ast.DetectMatcher(_detector_names(items[0]), self._s(meta))

    # pixels
    def pixels(self, meta: Meta, items: list[Any]) -> ast.Pixels:
        condition = None
        if items and not isinstance(items[0], (ast.OcrRedact, ast.RegionFill, ast.HeaderRegionsFill,
                                               ast.RedactAllText, ast.AllowLossy)):
            condition, items = items[0], items[1:]
        return ast.Pixels(condition, tuple(items), self._s(meta))

    def box(self, meta: Meta, items: list[Any]) -> tuple[int, ...]:
        return tuple(int(i) for i in items)

    def ocr_redact(self, meta: Meta, items: list[Any]) -> ast.OcrRedact:
        fuzzy = next((int(i) for i in items[1:] if i.type == "INT"), None)
        detectors = next((_detector_names(i) for i in items[1:] if i.type == "DETECTOR_LIST"), ())
        return ast.OcrRedact(str(items[0]), fuzzy, self._s(meta), detectors)

    def region_fill(self, meta: Meta, items: list[Any]) -> ast.RegionFill:
        return ast.RegionFill(items[0], int(items[1]), self._s(meta))

    def header_regions_fill(self, meta: Meta, items: list[Any]) -> ast.HeaderRegionsFill:
        return ast.HeaderRegionsFill(int(items[0]), self._s(meta))

    def redact_all_text(self, meta: Meta, items: list[Any]) -> ast.RedactAllText:
        return ast.RedactAllText(items[0], self._s(meta))

    def allow_lossy(self, meta: Meta, items: list[Any]) -> ast.AllowLossy:
        return ast.AllowLossy(int(items[0]), self._s(meta))

    # conditions
    def any_of(self, meta: Meta, items: list[Any]) -> ast.AnyOf:
        flat = [x for i in items for x in (i.items if isinstance(i, ast.AnyOf) else (i,))]
        return ast.AnyOf(tuple(flat), self._s(meta))

    def all_of(self, meta: Meta, items: list[Any]) -> ast.AllOf:
        flat = [x for i in items for x in (i.items if isinstance(i, ast.AllOf) else (i,))]
        return ast.AllOf(tuple(flat), self._s(meta))

    def negation(self, meta: Meta, items: list[Any]) -> ast.Negation:
        return ast.Negation(items[0], self._s(meta))

    def equals(self, meta: Meta, items: list[Any]) -> ast.Equals:
        return ast.Equals(items[0], _literal(items[1]), self._s(meta))

    def not_equals(self, meta: Meta, items: list[Any]) -> ast.NotEquals:
        return ast.NotEquals(items[0], _literal(items[1]), self._s(meta))

    def one_of(self, meta: Meta, items: list[Any]) -> ast.OneOf:
        return ast.OneOf(items[0], tuple(_literal(i) for i in items[1:]), self._s(meta))

    def matches(self, meta: Meta, items: list[Any]) -> ast.Matches:
        pattern, flags = _regex(items[1])
        return ast.Matches(items[0], pattern, flags, self._s(meta))

    def exists(self, meta: Meta, items: list[Any]) -> ast.Exists:
        return ast.Exists(items[0], self._s(meta))
