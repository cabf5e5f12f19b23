"""Bytes → rule text: what makes a file a rule file, and the limits checked before parsing.

In: a path (or text already read). Out: the file's text — UTF-8, a leading BOM dropped — ready
for the parser, or a `DeidError` whose diagnostic says what is wrong without showing the content:

    DS002  not a rule file: NUL bytes or other control characters (a DICOM file, /proc/…/environ)
    DS003  not UTF-8, at the first bad byte (UTF-16 is named as such)
    DS004  larger than MAX_RULE_FILE_BYTES
    DS005  a line — and so a string or a regex, which cannot span lines — longer than MAX_LINE_CHARS

All of it runs before the LALR parse, in time linear in the input and with C-speed scans, so a
20 MB string literal is refused in milliseconds instead of parsed in 25 s and 5 GB. The limits
are listed in docs/language.md ("Limits"). What a diagnostic may show of a file is
`deidc.diagnostics.shown_text`.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from deidc.diagnostics import CONTROL_BYTES, CONTROL_CHARS, UTF8_BOM, UTF16_BOMS, DeidError, Diagnostic, Span

# The shipped TCIA ruleset (6,000+ rules) is about 700 KB; 8 MiB is more than ten times that.
# Parsing costs some 1.3 µs and 40 bytes of memory per byte of ordinary rules (8 MiB: ~10 s,
# ~330 MB); a bigger file is a generated table that belongs in a lookup file, or not rules at all.
MAX_RULE_FILE_BYTES = 8 * 1024 * 1024
# The longest line, so the longest string or regex (neither spans lines). The shipped rulesets'
# longest line is under 600 characters; the longest DICOM text value (LT) is 10,240.
MAX_LINE_CHARS = 64 * 1024
# What `include` may name (compiler/expand.py): a regular file whose name ends in this.
RULE_FILE_SUFFIX = ".deid"

# A string as the grammar reads it (unrolled, so a long one is one C-speed scan), a comment, and
# a regex where the grammar allows one: after `~`, after `regex` or a `,` in a `clean` matcher.
_STRING = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?')
_REGEX = re.compile(r"/[^/\\\n]*(?:\\.[^/\\\n]*)*/?")
_REGEX_BEFORE = re.compile(r"(?:~|,|\bregex)[ \t\f\r]*\Z")
_SPECIAL = re.compile(r'["#/]')

_NOT_A_RULE_FILE_HINT = "a rule file is UTF-8 text; check that this is the .deid file you meant"
_DICOM_HINT = ("this is a DICOM file: the rule file comes first, as in "
               "`deidc apply RULES.deid IN -o OUT`")
_UTF8_HINT = "save the file as UTF-8 (e.g. `iconv -f {encoding} -t utf-8 OLD > NEW`)"
_TOO_LARGE_HINT = ("split the rules into files joined with `include`, or move long generated lists "
                   "into a lookup table (`lookup \"table.csv\"`)")
_LONG_LITERAL_HINT = 'a value this long belongs in a lookup table (`-> lookup "table.csv" else ...`)'
_LONG_LINE_HINT = "break the line, e.g. after a `,` (newlines are whitespace)"


def read_rule_file(path: str | Path) -> str:
    """The checked text of a rule file; `DeidError` when it cannot be read or is no rule file.
    Reads at most MAX_RULE_FILE_BYTES + 1 bytes, so /dev/zero or a huge file costs little."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as err:
        raise DeidError(Diagnostic(
            "error", f"cannot read rule file: {err.strerror or err}", Span(str(p), 0, 0, 0, 0),
            hint="check the path", code="DS006")) from None
    return decode_rule_bytes(data, str(p))


def decode_rule_bytes(data: bytes, path: str) -> str:
    """Bytes of a rule file → its checked text (see the module docstring for the checks)."""
    if data.startswith(UTF16_BOMS):
        raise DeidError(Diagnostic("error", "not UTF-8: the file is UTF-16", Span(path, 1, 1, 1, 2),
                                   hint=_UTF8_HINT.format(encoding="utf-16"), code="DS003"))
    bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM):] if bom else data
    bad = CONTROL_BYTES.search(body)
    if bad:
        hint = _DICOM_HINT if data[128:132] == b"DICM" else _NOT_A_RULE_FILE_HINT
        line, column = _byte_position(body, bad.start())
        what = "binary data" if bad.group() == b"\0" else "a control character"
        raise DeidError(Diagnostic(
            "error", f"not a rule file: it holds {what} (byte 0x{body[bad.start()]:02X})",
            Span(path, line, column, line, column + 1), hint=hint, code="DS002"))
    if len(data) > MAX_RULE_FILE_BYTES:
        raise DeidError(_too_large(path, f"{_size_of(path, len(data))} bytes"))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = _byte_position(body, err.start)
        raise DeidError(Diagnostic(
            "error", f"not UTF-8: byte 0x{body[err.start]:02X} cannot be decoded",
            Span(path, line, column, line, column + 1), hint=_UTF8_HINT.format(encoding="latin1"),
            code="DS003")) from None
    return check_text(text, path)


def check_text(text: str, path: str) -> str:
    """Text → the same text without a leading BOM, or `DeidError` (DS002, DS004, DS005)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = CONTROL_CHARS.search(text)
    if bad:
        line, column = _char_position(text, bad.start())
        raise DeidError(Diagnostic(
            "error", f"not a rule file: it holds a control character (U+{ord(bad.group()):04X})",
            Span(path, line, column, line, column + 1), hint=_NOT_A_RULE_FILE_HINT, code="DS002"))
    if len(text) > MAX_RULE_FILE_BYTES // 4:  # 4 bytes per character at most
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_RULE_FILE_BYTES:
            raise DeidError(_too_large(path, f"{size:,} bytes of UTF-8"))
    _check_lines(text, path)
    return text


def _too_large(path: str, size: str) -> Diagnostic:
    limit = f"{MAX_RULE_FILE_BYTES // 2**20} MiB ({MAX_RULE_FILE_BYTES:,} bytes)"
    return Diagnostic("error", f"rule file too large: {size}; the limit is {limit}",
                      Span(path, 0, 0, 0, 0), hint=_TOO_LARGE_HINT, code="DS004")


def _size_of(path: str, read: int) -> str:
    """The file's size for the message: its real size when it can tell, else "more than"."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode) and st.st_size >= read:
            return f"{st.st_size:,}"
    except OSError:
        pass
    return f"more than {MAX_RULE_FILE_BYTES:,}"


def _check_lines(text: str, path: str) -> None:
    """DS005 at the first line longer than MAX_LINE_CHARS, naming the string or regex that makes
    it so when there is one. A line that long fully covers an aligned block of `half` characters
    with no newline, so only one `find` per block is needed, not one step per line."""
    if len(text) <= MAX_LINE_CHARS:
        return
    half = MAX_LINE_CHARS // 2
    block = 0
    while block < len(text):
        if text.find("\n", block, block + half) == -1 and len(text) - block >= half:
            start = text.rfind("\n", 0, block) + 1
            end = text.find("\n", block)
            end = len(text) if end == -1 else end
            if end - start > MAX_LINE_CHARS:
                _too_long(text, start, end, path)
            block = end + 1
        else:
            block += half


def _too_long(text: str, start: int, end: int, path: str) -> None:
    line = text.count("\n", 0, start) + 1
    found = _long_literal(text, start, end)
    if found:
        what, at, length = found
        column = at - start + 1
        message = f"{what} longer than {MAX_LINE_CHARS:,} characters ({length:,})"
        hint = _LONG_LITERAL_HINT
    else:
        column = MAX_LINE_CHARS + 1
        message = f"line longer than {MAX_LINE_CHARS:,} characters ({end - start:,})"
        hint = _LONG_LINE_HINT
    raise DeidError(Diagnostic("error", message, Span(path, line, column, line, column + 1),
                               hint=hint, code="DS005"))


def _long_literal(text: str, start: int, end: int, steps: int = 10_000) -> tuple[str, int, int] | None:
    """The first string or regex longer than MAX_LINE_CHARS in text[start:end], as (kind,
    offset, length); None if there is none (or it is not found within `steps` tokens)."""
    pos = start
    for _ in range(steps):
        m = _SPECIAL.search(text, pos, end)
        if m is None or m.group() == "#":
            return None
        at = m.start()
        if m.group() == '"':
            token, kind = _STRING.match(text, at, end), "string"
        elif _REGEX_BEFORE.search(text, max(start, at - 64), at):
            token, kind = _REGEX.match(text, at, end), "regex"
        else:
            token = None
        if token is None:
            pos = at + 1
            continue
        if token.end() - at > MAX_LINE_CHARS:
            return kind, at, token.end() - at
        pos = max(token.end(), at + 1)
    return None


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _char_position(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
