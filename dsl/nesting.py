"""How deep a rule file may nest: checked on the parse tree, before anything recursive walks it.

In: a Lark parse tree and its file path. Out: nothing, or a `DeidError` (DS001) positioned at the
first construct — block, condition or `lookup ... else` chain — nested deeper than MAX_NESTING,
with a hint. Every later stage (AST builder, compiler, printer, condition evaluation) walks these
constructs recursively; 500 nested `when` blocks crashed the compiler with a RecursionError.
"""
from __future__ import annotations

import lark
from lark import Token

from deidc.diagnostics import DeidError, Diagnostic, Span

# Blocks, conditions and `lookup ... else` chains may nest at most this deep. Every later stage
# (AST builder, compiler, printer, condition evaluation) walks them recursively; the bound keeps
# that far from Python's recursion limit, and real rule files stay at a few levels.
MAX_NESTING = 32

_BLOCKS = {"when_block": "when", "option": "option", "pixels": "pixels", "private_block": "private"}
_CONDITIONS = frozenset({"any_of", "all_of", "negation"})
_NESTING_ERRORS = {
    "block": ("blocks nested more than {limit} deep",
              "combine the conditions of nested `when` blocks with `and`, or move inner statements "
              "out of their block (the limit is in docs/language.md)"),
    "condition": ("condition nested more than {limit} deep",
                  "simplify the condition: `not not X` is `X`, alternatives can be one `X in (...)`"),
    "lookup": ("`lookup ... else` chain nested more than {limit} deep",
               "merge the lookup tables into fewer files, so fewer fallbacks are needed"),
}


def check_nesting(tree: lark.Tree[Token], path: str) -> None:
    """Raise `DeidError` at the first construct (in source order) nested deeper than MAX_NESTING.
    Iterative, so any depth the LALR parser accepts is checked without recursion. A chain of one
    operator (`a or b or c`) is one level, as the AST flattens it; parentheses add no level."""
    # node, enclosing blocks, condition levels, the condition operator of the parent, lookups
    stack: list[tuple[lark.Tree[Token], int, int, str | None, int]] = [(tree, 0, 0, None, 0)]
    while stack:
        node, blocks, conditions, parent_op, lookups = stack.pop()
        kind = str(node.data)
        if kind in _BLOCKS:
            blocks += 1
            if blocks > MAX_NESTING:
                _too_deep("block", node, path, len(_BLOCKS[kind]))
        if kind in _CONDITIONS:
            if kind == "negation" or kind != parent_op:
                conditions += 1
                if conditions > MAX_NESTING:
                    _too_deep("condition", node, path, 3 if kind == "negation" else _first_token_width(node))
        if kind == "lookup":
            lookups += 1
            if lookups > MAX_NESTING:
                _too_deep("lookup", node, path, len("lookup"))
        operator = kind if kind in _CONDITIONS else None
        for child in reversed(node.children):
            if isinstance(child, lark.Tree):
                stack.append((child, blocks, conditions, operator, lookups))


def _first_token_width(node: lark.Tree[Token] | Token) -> int:
    while isinstance(node, lark.Tree) and node.children:
        node = node.children[0]
    return len(str(node)) if isinstance(node, Token) else 1


def _too_deep(what: str, node: lark.Tree[Token], path: str, width: int) -> None:
    message, hint = _NESTING_ERRORS[what]
    line, column = node.meta.line, node.meta.column
    span = Span(path, line, column, line, column + width)
    raise DeidError(Diagnostic("error", "syntax error: " + message.format(limit=MAX_NESTING), span, hint=hint,
                               code="DS001"))
