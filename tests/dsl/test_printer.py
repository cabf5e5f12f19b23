"""`deidc fmt` and `deidc.dsl.printer`: canonical layout, comments kept, meaning unchanged.

Round trips over every shipped ruleset and parser golden: formatting is idempotent, the AST
(spans removed) is unchanged, and every comment of the source appears in the output in order.
`golden_fmt/messy.deid` must format to `messy.expected.deid`; regenerate after an intended
change with

    UPDATE_GOLDEN=1 python -m pytest tests/dsl/test_printer.py

and review the diff.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from deidc.commands import fmt
from deidc.diagnostics import DeidError
from deidc.dsl.parser import parse_text
from deidc.dsl.printer import format_text, parse_with_comments, quote, strip_spans

ROOT = Path(__file__).resolve().parents[2]
FMT_DIR = Path(__file__).parent / "golden_fmt"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

ROUND_TRIP = sorted(
    [*ROOT.glob("rulesets/*.deid"), *(ROOT / "tests/dsl/golden").glob("*.deid"),
     ROOT / "tests/compiler/golden/show.deid", *FMT_DIR.glob("*.deid")]
)


def _comments(text: str) -> list[str]:
    _, comments, _ = parse_with_comments(text, "<t>")
    return [str(c).rstrip() for c in comments]


@pytest.mark.parametrize("path", ROUND_TRIP, ids=lambda p: str(p.relative_to(ROOT)))
def test_round_trip(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once = format_text(text, str(path), verify=False)
    assert strip_spans(parse_text(once, str(path))) == strip_spans(parse_text(text, str(path)))
    assert format_text(once, str(path), verify=False) == once
    assert _comments(once) == _comments(text)
    assert once.endswith("\n") and "\n\n\n" not in once and not once.startswith("\n")


def test_messy_golden() -> None:
    source = (FMT_DIR / "messy.deid").read_text(encoding="utf-8")
    expected_path = FMT_DIR / "messy.expected.deid"
    got = format_text(source, "messy.deid")
    if UPDATE:
        expected_path.write_text(got, encoding="utf-8")
    assert got == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("source, expected", [
    ("PatientName ->remove", "PatientName -> remove\n"),
    ("(0010,00aa) -> keep", "(0010,00AA) -> keep\n"),
    ("( 60XX , 3000 ) -> remove", "(60xx,3000) -> remove\n"),
    ('(0029,"Siemens",1f) -> keep', '(0029,"Siemens",1F) -> keep\n'),
    ("A -> keep; B -> remove", "A -> keep\nB -> remove\n"),
    ("unknown  *->remove", "unknown * -> remove\n"),
    ("when a = 1 { unknown * -> keep }", "when a = 1 {\n    unknown * -> keep\n}\n"),
    ("A -> keep  # c1\n\n\n\n# c2\nB -> remove\n# end", "A -> keep  # c1\n\n# c2\nB -> remove\n# end\n"),
    ('private "X" { 10 -> keep a0 -> remove }'.replace("a0 ->", "; a0 ->"),
     'private "X" {\n    10 -> keep;\n    A0 -> remove;\n}\n'),
    ("when a = 1 and (b = 2 or c = 3) { }", "when a = 1 and (b = 2 or c = 3) {}\n"),
    ("when (a = 1 and b = 2) or not (c = 3) { }", "when a = 1 and b = 2 or not c = 3 {}\n"),
    ('when Modality = "in" { }', 'when Modality = "in" {}\n'),
    ("A -> clean phi regex ssn,phone,dates remove",
     "A -> clean phi regex ssn, phone, dates remove\n"),
    # quotes escaped; a backslash only where it would otherwise be read as an escape
    ('A -> replace "a\\"b\\\\c"', 'A -> replace "a\\"b\\c"\n'),
    ('A -> pseudonym "\\d{hmac:4}"', 'A -> pseudonym "\\d{hmac:4}"\n'),
    ("name ~ /a\\/b/i -> keep", "name ~ /a\\/b/i -> keep\n"),
    ("Seq[*] -> keep\nSeq[*]/X -> keep", "Seq[*] -> keep\nSeq/X -> keep\n"),
    ("", ""),
    ("# only a comment", "# only a comment\n"),
])
def test_format_cases(source: str, expected: str) -> None:
    assert format_text(source) == expected
    assert format_text(expected) == expected


@pytest.mark.parametrize("value", ["plain", 'say "hi"', "back\\slash", "end\\", '\\"', "\\\\"])
def test_quote_round_trips(value: str) -> None:
    text = f"A -> replace {quote(value)}"
    assert parse_text(text).statements[0].action.value == value


def test_syntax_error_raises_diagnostic() -> None:
    with pytest.raises(DeidError) as err:
        format_text("PatientName remove", "bad.deid")
    assert "missing '->'" in str(err.value)


def _args(files, write=False, check=False) -> argparse.Namespace:
    return argparse.Namespace(files=[str(f) for f in files], write=write, check=check)


def test_check_exit_codes(tmp_path: Path, capsys) -> None:
    clean = tmp_path / "clean.deid"
    clean.write_text("PatientName -> remove\n", encoding="utf-8")
    messy = tmp_path / "messy.deid"
    messy.write_text("PatientName ->remove", encoding="utf-8")
    assert fmt.run(_args([clean], check=True)) == 0
    assert fmt.run(_args([clean, messy], check=True)) == 1
    out = capsys.readouterr().out
    assert str(messy) in out and str(clean) not in out
    assert messy.read_text(encoding="utf-8") == "PatientName ->remove"  # --check changes nothing


def test_write_rewrites_only_changed(tmp_path: Path) -> None:
    clean = tmp_path / "clean.deid"
    clean.write_text("PatientName -> remove\n", encoding="utf-8")
    messy = tmp_path / "messy.deid"
    messy.write_text("PatientName ->remove  #  c", encoding="utf-8")
    before = clean.stat().st_mtime_ns
    assert fmt.run(_args([clean, messy], write=True)) == 0
    assert messy.read_text(encoding="utf-8") == "PatientName -> remove  #  c\n"
    assert clean.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.deid", "messy.deid"]
    assert fmt.run(_args([clean, messy], check=True)) == 0


def test_stdout_and_syntax_error(tmp_path: Path, capsys) -> None:
    good = tmp_path / "good.deid"
    good.write_text("version 1 A ->keep", encoding="utf-8")
    assert fmt.run(_args([good])) == 0
    assert capsys.readouterr().out == "version 1\nA -> keep\n"
    bad = tmp_path / "bad.deid"
    bad.write_text("PatientName remove\n", encoding="utf-8")
    assert fmt.run(_args([bad], check=True)) == 2
    assert "bad.deid:1" in capsys.readouterr().err
