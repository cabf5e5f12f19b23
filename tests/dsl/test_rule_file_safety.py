"""Rule files are read safely (issue 12): what is not a rule file is refused without echoing it,
encoding problems are positioned diagnostics, and the documented limits (docs/language.md,
"Limits") are checked before the expensive parse.

- `include` names a `.deid` file that is a regular file (not a device, FIFO, directory or /proc
  file), else DC015 at the include's file:line:col, before the file is opened.
- Any rule file with NUL bytes or other control characters is "not a rule file" (DS002), and no
  diagnostic shows any of its content.
- Text that is not UTF-8 is DS003 at the first bad byte; a UTF-8 BOM is ignored.
- A rule file over MAX_RULE_FILE_BYTES is DS004; a line (so a string or regex) over
  MAX_LINE_CHARS is DS005; the source line a diagnostic shows is cut to MAX_SHOWN_CHARS.
- Every command that reads rules (apply, lint, compile, explain, fmt, diff) prints the diagnostic
  and exits non-zero, never with a traceback.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from deidc.compiler import compile_rules
from deidc.compiler.lint import lint_file
from deidc.diagnostics import MAX_SHOWN_CHARS, DeidError, Diagnostic, Span
from deidc.dsl.parser import parse_file, parse_text
from deidc.dsl.printer import format_text
from deidc.dsl.source import MAX_LINE_CHARS, MAX_RULE_FILE_BYTES

DEIDC = Path(sys.executable).parent / "deidc"
SECRET = "s3cr3t-0f-the-d3idc-k3y"
ENVIRON = f"HOME=/root\0DEIDC_KEY={SECRET}\0PATH=/usr/bin\0".encode()
SHADOW = f"root:$6$hash{SECRET}:19000:0:99999:7:::\n"
CT_SMALL = Path(get_testdata_file("CT_small.dcm"))
# exit status of each command when its rules are bad: lint 1 (findings with an error), others 2
STATUS = {"apply": 2, "lint": 1, "compile": 2, "explain": 2, "fmt": 2, "diff": 2}


def run_cli(command: str, rules: Path, tmp_path: Path, env: dict[str, str] | None = None):
    """`deidc COMMAND` on these rules, with whatever else the command needs."""
    inputs = tmp_path / "in"
    if command == "apply" and not inputs.exists():
        inputs.mkdir()
        shutil.copy(CT_SMALL, inputs / "CT_small.dcm")
    args = {
        "apply": ["apply", str(rules), str(inputs), "-o", str(tmp_path / "out")],
        "lint": ["lint", str(rules)],
        "compile": ["compile", str(rules)],
        "explain": ["explain", str(rules), str(CT_SMALL)],
        "fmt": ["fmt", str(rules)],
        "diff": ["diff", str(rules), str(rules)],
    }[command]
    done = subprocess.run([str(DEIDC), *args], capture_output=True, timeout=120,
                          env={**os.environ, "DEIDC_CACHE": "off", "DEIDC_KEY": SECRET, **(env or {})})
    return done.returncode, done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")


def errors_of(path: Path) -> list[Diagnostic]:
    """The errors compiling `path` gives, raised or collected."""
    try:
        result = compile_rules(path)
    except DeidError as err:
        return err.diagnostics
    return result.errors


def rendered(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(d.render() for d in diagnostics)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# ---- include names a rule file -----------------------------------------------------------------


def test_include_of_an_environ_like_file_is_refused_without_echo(tmp_path):
    write(tmp_path / "environ", ENVIRON)
    main = write(tmp_path / "main.deid", 'version 1\nPatientName -> remove\ninclude "environ"\n')
    [diag] = errors_of(main)
    assert (diag.code, diag.span.file, diag.span.line, diag.span.column) == ("DC015", str(main), 3, 1)
    assert "not a rule file" in diag.message and ".deid" in diag.message
    assert ".deid" in diag.hint
    assert SECRET not in rendered([diag]) and "DEIDC_KEY" not in rendered([diag])


def test_include_of_a_shadow_like_text_file_is_refused_without_echo(tmp_path):
    write(tmp_path / "shadow", SHADOW)
    main = write(tmp_path / "main.deid", 'include "shadow"\n')
    [diag] = errors_of(main)
    assert (diag.code, diag.span.line, diag.span.column) == ("DC015", 1, 1)
    assert SECRET not in rendered([diag]) and "root:" not in rendered([diag])


def test_include_of_a_missing_non_deid_file_says_not_a_rule_file(tmp_path):
    """The name is checked before the file is looked at: whether it exists is not revealed."""
    main = write(tmp_path / "main.deid", 'include "/nonexistent/secret.txt"\n')
    [diag] = errors_of(main)
    assert diag.code == "DC015"


def test_include_of_a_link_named_deid_to_another_file_is_refused(tmp_path):
    write(tmp_path / "shadow", SHADOW)
    (tmp_path / "site.deid").symlink_to(tmp_path / "shadow")
    main = write(tmp_path / "main.deid", 'include "site.deid"\n')
    [diag] = errors_of(main)
    assert diag.code == "DC015"
    assert SECRET not in rendered([diag])


def test_include_of_a_link_between_deid_files_is_fine(tmp_path):
    write(tmp_path / "real/site.deid", "PatientID -> empty\n")
    (tmp_path / "site.deid").symlink_to(tmp_path / "real/site.deid")
    main = write(tmp_path / "main.deid", 'include "site.deid"\n')
    assert errors_of(main) == []


@pytest.mark.parametrize("kind", ["directory", "fifo", "device"])
def test_include_of_something_not_a_regular_file_is_refused(tmp_path, kind):
    target = tmp_path / "x.deid"
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)  # opening it would block forever: it must never be opened
    else:
        target.symlink_to("/dev/zero")
    main = write(tmp_path / "main.deid", 'PatientName -> remove\ninclude "x.deid"\n')
    [diag] = errors_of(main)
    assert (diag.code, diag.span.line) == ("DC015", 2)
    assert "regular file" in diag.message


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_include_of_proc_self_environ_never_prints_the_key(tmp_path):
    main = write(tmp_path / "main.deid", 'version 1\ninclude "/proc/self/environ"\n')
    (tmp_path / "environ.deid").symlink_to("/proc/self/environ")
    linked = write(tmp_path / "linked.deid", 'version 1\ninclude "environ.deid"\n')
    for rules in (main, linked):
        for command in ("compile", "lint"):
            status, output = run_cli(command, rules, tmp_path)
            assert status == STATUS[command], output
            assert SECRET not in output and "Traceback" not in output
            assert f"{rules}:2:1: error[DC015]" in output


@pytest.mark.parametrize("command", ["compile", "lint", "apply"])
def test_cli_include_of_secret_files_never_prints_them(tmp_path, command):
    write(tmp_path / "environ", ENVIRON)
    write(tmp_path / "shadow", SHADOW)
    write(tmp_path / "environ2.deid", ENVIRON)  # named like a rule file, but binary
    for target in ("environ", "shadow", "environ2.deid"):
        rules = write(tmp_path / "main.deid", f'version 1\nPatientName -> remove\ninclude "{target}"\n')
        status, output = run_cli(command, rules, tmp_path)
        assert status == STATUS[command], output
        assert SECRET not in output and "DEIDC_KEY=" not in output and "root:" not in output
        assert "Traceback" not in output
        assert "not a rule file" in output


# ---- binary content: not a rule file ----------------------------------------------------------


def test_binary_content_is_not_a_rule_file_and_is_not_echoed(tmp_path):
    path = write(tmp_path / "environ.deid", ENVIRON)
    with pytest.raises(DeidError) as info:
        parse_file(path)
    [diag] = info.value.diagnostics
    assert (diag.code, diag.span.line, diag.span.column) == ("DS002", 1, 11)
    assert "not a rule file" in diag.message
    assert SECRET not in diag.render() and "HOME" not in diag.render()
    assert SECRET not in diag.render(ENVIRON.decode())  # even given the text, nothing is shown


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x9b"])
def test_control_characters_are_refused_in_text(char):
    with pytest.raises(DeidError) as info:
        parse_text(f"PatientName -> keep\nPatientID -> replace \"a{char}{SECRET}\"\n", "c.deid")
    [diag] = info.value.diagnostics
    assert (diag.code, diag.span.line, diag.span.column) == ("DS002", 2, 24)
    assert SECRET not in diag.render() and SECRET not in diag.message


def test_included_binary_rule_file_is_a_diagnostic_in_that_file(tmp_path):
    write(tmp_path / "lib/environ.deid", ENVIRON)
    main = write(tmp_path / "main.deid", 'include "lib/environ.deid"\n')
    [diag] = errors_of(main)
    assert (diag.code, Path(diag.span.file).name) == ("DS002", "environ.deid")
    assert SECRET not in rendered([diag])
    findings = lint_file(main)  # lint collects it too
    assert [d.code for d in findings if d.severity == "error"] == ["DS002"]
    assert SECRET not in rendered(findings)


def test_dicom_file_given_as_rules_is_a_clean_diagnostic():
    with pytest.raises(DeidError) as info:
        parse_file(CT_SMALL)
    [diag] = info.value.diagnostics
    assert diag.code == "DS002" and "not a rule file" in diag.message
    assert "DICOM" in diag.hint


@pytest.mark.parametrize("command", sorted(STATUS))
def test_cli_dicom_file_given_as_rules(tmp_path, command):
    rules = shutil.copy(CT_SMALL, tmp_path / "CT_small.dcm")
    status, output = run_cli(command, Path(rules), tmp_path)
    assert status == STATUS[command], output
    assert "Traceback" not in output
    assert f"{rules}:1:4: error[DS002]: " in output  # the NUL of its "II*\0" preamble
    assert "not a rule file: it holds binary data (byte 0x00)" in output
    assert "DICOM" in output
    assert len(output) < 2000  # the diagnostic, not the file


# ---- encoding ------------------------------------------------------------------------------------


LATIN1 = "version 1\n# patients of the Clinique Saint-Andr\xe9\nPatientName -> remove\n".encode("latin-1")


def test_latin1_comment_is_a_positioned_diagnostic(tmp_path):
    path = write(tmp_path / "latin1.deid", LATIN1)
    with pytest.raises(DeidError) as info:
        parse_file(path)
    [diag] = info.value.diagnostics
    assert (diag.code, diag.span.file, diag.span.line, diag.span.column) == ("DS003", str(path), 2, 38)
    assert "UTF-8" in diag.message and "0xE9" in diag.message
    assert "save the file as UTF-8" in diag.hint
    lines = diag.render().splitlines()
    assert lines[0] == f"{path}:2:38: error[DS003]: {diag.message}"
    assert lines[2].index("^") - lines[1].index("#") == 37  # the caret under the bad byte


@pytest.mark.parametrize("command", sorted(STATUS))
def test_cli_latin1_comment(tmp_path, command):
    rules = write(tmp_path / "latin1.deid", LATIN1)
    status, output = run_cli(command, rules, tmp_path)
    assert status == STATUS[command], output
    assert "Traceback" not in output and "UnicodeDecodeError" not in output
    assert f"{rules}:2:38: error[DS003]: " in output
    assert "save the file as UTF-8" in output


def test_included_latin1_file_is_a_diagnostic_in_that_file(tmp_path):
    write(tmp_path / "site.deid", LATIN1)
    main = write(tmp_path / "main.deid", 'PatientID -> keep\ninclude "site.deid"\n')
    [diag] = errors_of(main)
    assert (diag.code, Path(diag.span.file).name, diag.span.line, diag.span.column) == ("DS003", "site.deid", 2, 38)
    status, output = run_cli("lint", main, tmp_path)
    assert status == 1 and "Traceback" not in output
    assert "site.deid:2:38: error[DS003]" in output


def test_utf16_file_is_named_as_such(tmp_path):
    path = write(tmp_path / "u16.deid", "PatientName -> remove\n".encode("utf-16"))
    with pytest.raises(DeidError) as info:
        parse_file(path)
    [diag] = info.value.diagnostics
    assert diag.code == "DS003" and "UTF-16" in diag.message
    assert "save the file as UTF-8" in diag.hint


def test_utf8_bom_is_accepted_and_ignored(tmp_path):
    path = write(tmp_path / "bom.deid", b"\xef\xbb\xbfPatientName -> remove\nPatientID -> keep\n")
    rule_file = parse_file(path)
    first = rule_file.statements[0]
    assert (first.span.line, first.span.column) == (1, 1)
    assert parse_text("\ufeffPatientName -> remove\n").statements[0].span.column == 1
    assert compile_rules(path).errors == []


def test_utf8_bom_keeps_columns_right_in_diagnostics(tmp_path):
    path = write(tmp_path / "bom.deid", b"\xef\xbb\xbfPatientName remove\n")
    with pytest.raises(DeidError) as info:
        parse_file(path)
    [diag] = info.value.diagnostics
    assert (diag.code, diag.span.line, diag.span.column) == ("DS001", 1, 13)
    lines = diag.render().splitlines()
    assert lines[1] == "  1 | PatientName remove"
    assert lines[2] == "    |             ^^^^^^"


def test_fmt_of_a_bom_file(tmp_path):
    path = write(tmp_path / "bom.deid", b"\xef\xbb\xbfPatientName ->remove\n")
    assert format_text(path.read_text(encoding="utf-8"), str(path)) == "PatientName -> remove\n"
    status, output = run_cli("fmt", path, tmp_path)
    assert (status, output) == (0, "PatientName -> remove\n")


# ---- limits --------------------------------------------------------------------------------------


def test_20_mb_string_literal_is_refused_by_the_file_size_limit(tmp_path):
    path = tmp_path / "big.deid"
    path.write_text('PatientName -> replace "' + "A" * 20_000_000 + '"\n', encoding="utf-8")
    with pytest.raises(DeidError) as info:
        parse_file(path)
    [diag] = info.value.diagnostics
    assert diag.code == "DS004"
    assert "8 MiB" in diag.message and "20,000,026 bytes" in diag.message
    assert "AAAA" not in diag.render()


def test_20_mb_string_literal_in_text_is_refused_too():
    with pytest.raises(DeidError) as info:
        parse_text('PatientName -> replace "' + "A" * 20_000_000 + '"\n', "big.deid")
    [diag] = info.value.diagnostics
    assert diag.code == "DS004" and "8 MiB" in diag.message


@pytest.mark.parametrize("literal, what", [('"' + "A" * 1_000_000 + '"', "string"),
                                          ("/" + "a" * 1_000_000 + "/", "regex")])
def test_long_string_or_regex_is_refused_before_the_parse(tmp_path, literal, what):
    selector = "name ~ " + literal + " -> remove" if what == "regex" else "PatientName -> replace " + literal
    path = write(tmp_path / "long.deid", "version 1\n" + selector + "\n")
    with pytest.raises(DeidError) as info:
        parse_file(path)
    [diag] = info.value.diagnostics
    assert diag.code == "DS005"
    column = selector.index(literal[0]) + 1
    assert (diag.span.line, diag.span.column) == (2, column)
    assert diag.message == f"{what} longer than {MAX_LINE_CHARS:,} characters ({len(literal):,})"
    shown = diag.render().splitlines()[1:3]  # the source line, cut, and the caret under the quote
    assert len(shown[0]) < MAX_SHOWN_CHARS + 10 and shown[0].endswith("…")
    assert shown[1].index("^") == shown[0].index(literal[0])


def test_a_long_line_without_a_long_literal_is_refused_too():
    text = "PatientName, " * (MAX_LINE_CHARS // 10) + "PatientID -> remove\n"
    with pytest.raises(DeidError) as info:
        parse_text(text, "wide.deid")
    [diag] = info.value.diagnostics
    assert diag.code == "DS005" and diag.message.startswith(f"line longer than {MAX_LINE_CHARS:,} characters")


def test_literals_up_to_the_limit_are_fine():
    body = "A" * (MAX_LINE_CHARS - 40)
    rule_file = parse_text(f'PatientName -> replace "{body}"\n')
    assert rule_file.statements[0].action.value == body


def test_limits_are_documented_in_one_place():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "language.md").read_text(encoding="utf-8")
    limits = doc.split("## Limits", 1)[1].split("\n## ", 1)[0]
    from deidc.dsl.nesting import MAX_NESTING

    for number in (f"{MAX_RULE_FILE_BYTES // 2**20} MiB", f"{MAX_LINE_CHARS // 1024} KiB", str(MAX_NESTING),
                   str(MAX_SHOWN_CHARS)):
        assert number in limits
    for code in ("DS001", "DS002", "DS003", "DS004", "DS005", "DC015"):
        assert code in limits


# ---- bounded diagnostics -------------------------------------------------------------------------


def test_source_line_shown_is_cut_around_the_error():
    text = "PatientName -> replace " + '"' + "x" * 5000 + '" -> keep\n'
    with pytest.raises(DeidError) as info:
        parse_text(text, "w.deid")
    [diag] = info.value.diagnostics
    lines = diag.render(text).splitlines()
    assert all(len(line) <= MAX_SHOWN_CHARS + 12 for line in lines), lines
    source_line, caret_line = lines[1], lines[2]
    caret = caret_line.index("^")
    assert source_line[caret:caret + 2] == "->"
    assert caret_line[caret:] == "^^"
    assert "…" in source_line


def test_a_short_line_is_shown_whole():
    diag = Diagnostic("error", "m", Span("f.deid", 1, 3, 1, 5), code="DS001")
    assert diag.render("ab cd ef\n").splitlines()[1:] == ["  1 | ab cd ef", "    |   ^^"]


def test_unexpected_token_message_is_bounded():
    name = "P" * 10_000
    with pytest.raises(DeidError) as info:
        parse_text(f"PatientName -> keep\nmarkers codes 1, {name}\n", "t.deid")
    [diag] = info.value.diagnostics
    assert len(diag.message) < 100 and diag.message.startswith("syntax error: unexpected 'PPPP")


def test_diagnostic_of_a_fifo_file_does_not_block(tmp_path):
    fifo = tmp_path / "pipe.deid"
    os.mkfifo(fifo)
    diag = Diagnostic("error", "m", Span(str(fifo), 1, 1, 1, 2), code="DS001")
    assert diag.render() == f"{fifo}:1:1: error[DS001]: m"


# ---- snapshots: what each refusal prints ---------------------------------------------------------

READ_ERRORS = Path(__file__).parent / "read_errors"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
SNAPSHOT_CODES = {"bom_first_line": "DS001", "environ": "DS002", "latin1_comment": "DS003",
                  "terminal_escape": "DS002", "utf16": "DS003"}


@pytest.mark.parametrize("name", sorted(SNAPSHOT_CODES))
def test_read_error_snapshot(name, monkeypatch):
    """tests/dsl/read_errors/NAME.deid (bytes as they are: Latin-1, NULs, UTF-16, a BOM) renders
    as NAME.txt; regenerate with UPDATE_GOLDEN=1 and review the diff."""
    monkeypatch.chdir(READ_ERRORS)  # the file named as a user would: relative, stable in the text
    with pytest.raises(DeidError) as info:
        parse_file(f"{name}.deid")
    assert [d.code for d in info.value.diagnostics] == [SNAPSHOT_CODES[name]]
    text = info.value.render() + "\n"
    assert SECRET not in text and "\x1b" not in text and "hidden" not in text
    snapshot = READ_ERRORS / f"{name}.txt"
    if UPDATE:
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")


def test_every_read_error_file_is_a_case():
    assert sorted(p.stem for p in READ_ERRORS.glob("*.deid")) == sorted(SNAPSHOT_CODES)
    assert sorted(p.stem for p in READ_ERRORS.glob("*.txt")) == sorted(SNAPSHOT_CODES)
