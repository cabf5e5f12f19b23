"""Pseudonym templates (`pseudonym "P{hmac:20}"`): what a valid one is, and how many values it
can give. The compiler checks templates and lint sizes them with this module; the runtime renders
them (runtime/interpret/pseudonyms.py `pseudonym`), reading placeholders with the same expression.
"""
from __future__ import annotations

import re

PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDER_BODY_RE = re.compile(r"(hmac|hex):([0-9]+)")
_MAX_PLACEHOLDER_LEN = 64


def validate_template(template: str) -> str | None:
    """Return an error message for a bad pseudonym template, or None if valid.

    Placeholders are ``{hmac:N}`` and ``{hex:N}`` with 1 <= N <= 64; every other
    character is literal. Braces are reserved: a brace outside a well-formed
    placeholder is an error (there is no escaping).
    """
    for m in PLACEHOLDER_RE.finditer(template):
        body = _PLACEHOLDER_BODY_RE.fullmatch(m.group(1))
        if body is None:
            return (
                f"unknown placeholder {m.group(0)!r} in template {template!r}; "
                "expected {hmac:N} or {hex:N}"
            )
        n = int(body.group(2))
        if not 1 <= n <= _MAX_PLACEHOLDER_LEN:
            return (
                f"placeholder {m.group(0)!r} in template {template!r}: "
                f"N must be 1..{_MAX_PLACEHOLDER_LEN}"
            )
    rest = PLACEHOLDER_RE.sub("", template)
    if "{" in rest or "}" in rest:
        return f"unbalanced brace in template {template!r}"
    return None


def template_space(template: str) -> int:
    """How many different pseudonyms a (valid) template can give: placeholders of one kind repeat
    the same characters, so only the longest of each kind counts (hex reads the digest's leading
    bits, hmac its low-order digits: independent while both are short; at most 2**256)."""
    longest = {"hmac": 0, "hex": 0}
    for m in PLACEHOLDER_RE.finditer(template):
        kind, n = m.group(1).split(":")
        longest[kind] = max(longest[kind], int(n))
    space: int = 10 ** longest["hmac"] * 16 ** longest["hex"]  # int ** int is Any to mypy
    return min(space, 2**256)
