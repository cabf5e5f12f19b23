"""`deidc apply` as a user runs it: a subprocess, exit codes, stdout/stderr and the output folder."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import deid_data
import pydicom
import pytest

from deidc.resources import RULESETS_DIR
from deidc.runtime.audit import read_changes

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
COOKIES = Path(deid_data.__file__).parent / "data" / "dicom-cookies"

RULES = """\
version 1
key = secret("DEIDC_KEY")
day_shift = days(hmac(key, PatientID), -3650..-30)
markers "deidc e2e test" codes 113100

PatientName -> empty
PatientID -> pseudonym "P{hmac:8}"
StudyDate -> shift day_shift
SOPInstanceUID, StudyInstanceUID, SeriesInstanceUID -> remap uid
private * -> remove
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def line_number(path: Path, snippet: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if snippet in line)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def dicom_outputs(out: Path) -> list[Path]:
    return sorted(out.rglob("*.dcm"))


def test_apply_on_a_small_tree(deidc, small_tree, tmp_path):
    rules = write(tmp_path / "site.deid", RULES)
    out = tmp_path / "out"
    run = deidc("apply", rules, small_tree, "-o", out, "--workers", "1", "--no-progress")
    assert run.returncode == 0, run.stderr
    assert "input files" in run.stdout and "files/s" in run.stdout
    assert re.search(r"input files\s*│\s*4\b", run.stdout), run.stdout
    assert re.search(r"written\s*│\s*4\b", run.stdout), run.stdout

    written = dicom_outputs(out)
    assert len(written) == 4
    for path in written:
        ds = pydicom.dcmread(path)
        assert ds["PatientName"].is_empty
        assert re.fullmatch(r"P[0-9]{8}", ds.PatientID)
        assert ds.SOPInstanceUID.startswith("2.25.")
        assert path.relative_to(out).parts == (ds.PatientID, ds.StudyInstanceUID,
                                               ds.SeriesInstanceUID, ds.SOPInstanceUID + ".dcm")
        assert ds.PatientIdentityRemoved == "YES"

    for name in ("uid_mapping.csv", "patid_mapping.csv"):
        rows = read_csv(out / "mappings" / name)
        assert rows[0] == ["id_old", "id_new"]
        assert len(rows) > 1
    patids = dict(read_csv(out / "mappings" / "patid_mapping.csv")[1:])
    assert set(patids) == {"1CT1", "4MR1", "00007041776", "cookie-47"}
    assert read_csv(out / "quarantine.csv") == [["file", "reason"]]

    lines = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    inputs = {"ct/CT_small.dcm", "mr/MR_small.dcm", "brain/ctbrain1.dcm", "cookies/image1.dcm"}
    assert sorted(entry["file"] for entry in lines) == sorted(inputs)  # each file named once
    changes = list(read_changes(out / "audit.jsonl"))
    assert changes
    rule_re = re.compile(re.escape(str(rules)) + r":(\d+)")
    for entry in changes:
        assert {"file", "output", "path", "action", "rule"} <= entry.keys()
        assert re.fullmatch(r"\([0-9a-f]{4},[0-9a-f]{4}\)(\[\d+\]/\([0-9a-f]{4},[0-9a-f]{4}\))*",
                            entry["path"]), entry
        match = rule_re.fullmatch(entry["rule"])
        assert match, entry
        assert (out / entry["output"]).is_file()
    name_changes = [e for e in changes if e["path"] == "(0010,0010)"]
    assert {e["file"] for e in name_changes} == inputs
    assert {e["rule"] for e in name_changes} == {f"{rules}:{line_number(rules, 'PatientName -> empty')}"}
    assert {e["action"] for e in name_changes} == {"empty"}
    shift_rule = f"{rules}:{line_number(rules, 'StudyDate -> shift')}"
    assert {e["rule"] for e in changes if e["action"] == "shift"} == {shift_rule}


def test_missing_key_names_the_variable_and_the_rule_line(deidc, small_tree, tmp_path):
    rules = write(tmp_path / "site.deid", RULES)
    out = tmp_path / "out"
    run = deidc("apply", rules, small_tree, "-o", out, "--workers", "1", "--no-progress", key=None)
    assert run.returncode == 2
    assert "DEIDC_KEY" in run.stderr
    assert f"{rules}:2:" in run.stderr
    assert 'key = secret("DEIDC_KEY")' in run.stderr  # the source line is shown
    assert not out.exists()


def test_short_key_is_refused(deidc, small_tree, tmp_path):
    rules = write(tmp_path / "site.deid", RULES)
    run = deidc("apply", rules, small_tree, "-o", tmp_path / "out", "--workers", "1",
                "--no-progress", key="short")
    assert run.returncode == 2
    assert "shorter than 16 bytes" in run.stderr and f"{rules}:2:" in run.stderr


def test_syntax_error_shows_position_and_caret(deidc, small_tree, tmp_path):
    rules = write(tmp_path / "site.deid", "version 1\nPatientName -> empty\nPatientID remove\n")
    run = deidc("apply", rules, small_tree, "-o", tmp_path / "out", "--insecure-demo-key",
                "--workers", "1", "--no-progress")
    assert run.returncode == 2
    assert f"{rules}:3:11:" in run.stderr
    assert "syntax error" in run.stderr
    lines = run.stderr.splitlines()
    source_at = next(i for i, line in enumerate(lines) if "| PatientID remove" in line)
    caret_line = lines[source_at + 1]
    assert caret_line.index("^") == lines[source_at].index("remove")
    assert caret_line.strip().endswith("^" * len("remove"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("statement", "message"), [
    ("PatientID remove", "missing '->'"),
    ("PatientID -> delete", "unknown action"),
])
def test_known_mistake_gets_its_specific_message_after_the_first_statement(
        deidc, small_tree, tmp_path, statement, message):
    """Regression: the specific messages used to match only in a file's first statement (lark's
    match_examples compares parser states, and a later statement is in another state)."""
    rules = write(tmp_path / "site.deid", f"version 1\nPatientName -> empty\n{statement}\n")
    run = deidc("apply", rules, small_tree, "-o", tmp_path / "out", "--insecure-demo-key")
    assert run.returncode == 2
    assert f"{rules}:3:" in run.stderr and message in run.stderr, run.stderr


def test_known_mistake_in_the_first_statement_gets_its_specific_message(deidc, small_tree, tmp_path):
    rules = write(tmp_path / "site.deid", "PatientID remove\n")
    run = deidc("apply", rules, small_tree, "-o", tmp_path / "out", "--insecure-demo-key")
    assert run.returncode == 2
    assert f"{rules}:1:11:" in run.stderr and "missing '->'" in run.stderr


def test_non_empty_output_needs_overwrite(deidc, small_tree, tmp_path):
    rules = write(tmp_path / "site.deid", RULES)
    out = tmp_path / "out"
    out.mkdir()
    keep = write(out / "precious.txt", "do not lose me")
    run = deidc("apply", rules, small_tree, "-o", out, "--workers", "1", "--no-progress")
    assert run.returncode == 2
    assert "not empty" in run.stderr and "--overwrite" in run.stderr
    assert [p.name for p in out.iterdir()] == ["precious.txt"]
    assert keep.read_text() == "do not lose me"

    # --overwrite clears an earlier deidc output only: a file deidc did not write is never deleted
    run = deidc("apply", rules, small_tree, "-o", out, "--workers", "1", "--no-progress",
                "--overwrite")
    assert run.returncode == 2
    assert "precious.txt was not written by deidc" in run.stderr
    assert [p.name for p in out.iterdir()] == ["precious.txt"]
    assert keep.read_text() == "do not lose me"


def test_output_inside_input_is_refused(deidc, small_tree, tmp_path):
    rules = write(tmp_path / "site.deid", RULES)
    run = deidc("apply", rules, small_tree, "-o", small_tree / "out", "--workers", "1",
                "--no-progress")
    assert run.returncode == 2
    assert "inside the input" in run.stderr
    assert not (small_tree / "out").exists()


def test_missing_input_is_refused(deidc, tmp_path):
    rules = write(tmp_path / "site.deid", RULES)
    run = deidc("apply", rules, tmp_path / "nowhere", "-o", tmp_path / "out", "--no-progress")
    assert run.returncode == 2
    assert "does not exist" in run.stderr


def test_shipped_basic_profile_on_dicom_cookies(deidc, tmp_path):
    rules = RULESETS_DIR / "ps3.15-basic.deid"
    out = tmp_path / "out"
    run = deidc("apply", rules, COOKIES, "-o", out, "--insecure-demo-key", "--workers", "1",
                "--no-progress")
    assert run.returncode == 0, run.stderr
    assert "insecure-demo-key" in run.stderr  # the demo key is announced
    inputs = sorted(COOKIES.glob("*.dcm"))
    written = dicom_outputs(out)
    assert len(written) == len(inputs) == 7
    assert read_csv(out / "quarantine.csv") == [["file", "reason"]]
    originals = {pydicom.dcmread(p).SOPInstanceUID for p in inputs}
    for path in written:
        ds = pydicom.dcmread(path)
        assert ds["PatientName"].is_empty
        assert ds.SOPInstanceUID not in originals
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGBaseline8Bit
    uid_rows = dict(read_csv(out / "mappings" / "uid_mapping.csv")[1:])
    assert originals <= set(uid_rows)


def test_cli_workers_do_not_change_the_output(deidc, tmp_path):
    rules = RULESETS_DIR / "ps3.15-basic.deid"
    trees = []
    for workers in ("1", "3"):
        out = tmp_path / f"out-{workers}"
        run = deidc("apply", rules, COOKIES, "-o", out, "--insecure-demo-key", "--workers", workers,
                    "--no-progress")
        assert run.returncode == 0, run.stderr
        trees.append({str(p.relative_to(out)): p.read_bytes()
                      for p in sorted(out.rglob("*")) if p.is_file()})
    assert trees[0] == trees[1]
    assert sum(name.endswith(".dcm") for name in trees[0]) == 7


def test_key_file_relative_to_the_rules_from_another_cwd(deidc, tmp_path):
    from deidc.runtime.interpret import pseudonyms

    site = tmp_path / "site"
    site.mkdir()
    rules = write(site / "site.deid", 'version 1\nkey = secret(file "site.key")\n'
                                      'PatientID -> pseudonym "P{hmac:6}"\n')
    write(site / "site.key", "a-long-site-secret-from-a-file\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site / "site.key").chmod(0o644)  # readable by others: refused, like ssh refuses such a key
    run = deidc("apply", rules, TEST_FILES / "CT_small.dcm", "-o", tmp_path / "refused",
                "--workers", "1", "--no-progress", key=None, cwd=elsewhere)
    assert run.returncode == 2
    assert "DR003" in run.stderr and "mode 0644" in run.stderr and "chmod 600" in run.stderr
    assert "a-long-site-secret" not in run.stderr + run.stdout
    (site / "site.key").chmod(0o600)
    run = deidc("apply", rules, TEST_FILES / "CT_small.dcm", "-o", tmp_path / "out",
                "--workers", "1", "--no-progress", key=None, cwd=elsewhere)
    assert run.returncode == 0, run.stderr
    [written] = dicom_outputs(tmp_path / "out")
    assert pydicom.dcmread(written).PatientID == pseudonyms.pseudonym(
        b"a-long-site-secret-from-a-file", "1CT1", "P{hmac:6}")

    (site / "site.key").unlink()
    run = deidc("apply", rules, TEST_FILES / "CT_small.dcm", "-o", tmp_path / "out2",
                "--workers", "1", "--no-progress", key=None, cwd=elsewhere)
    assert run.returncode == 2
    assert "key file" in run.stderr and str(site / "site.key") in run.stderr
    assert f"{rules}:2:" in run.stderr


def test_option_of_the_shipped_profile(deidc, tmp_path):
    rules = RULESETS_DIR / "ps3.15-basic.deid"
    original = pydicom.dcmread(TEST_FILES / "MR_small.dcm")
    run = deidc("apply", rules, TEST_FILES / "MR_small.dcm", "-o", tmp_path / "out",
                "--insecure-demo-key", "--workers", "1", "--no-progress", "--option", "retain-uids")
    assert run.returncode == 0, run.stderr
    [written] = dicom_outputs(tmp_path / "out")
    ds = pydicom.dcmread(written)
    assert ds.SOPInstanceUID == original.SOPInstanceUID
    assert ds.StudyInstanceUID == original.StudyInstanceUID
    assert ds["PatientName"].is_empty
    assert "113110" in [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]

    run = deidc("apply", rules, TEST_FILES / "MR_small.dcm", "-o", tmp_path / "out2",
                "--insecure-demo-key", "--option", "retain-uid")
    assert run.returncode == 2
    assert "no option 'retain-uid'" in run.stderr and "retain-uids" in run.stderr
