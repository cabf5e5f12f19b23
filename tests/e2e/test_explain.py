"""`deidc explain`: the rule that decides each element of one file, and the value before and after.

`tools/explain.py` is tested directly; the command through its `run()` with an argparse
Namespace (stdout captured), on pydicom's CT_small.dcm.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pydicom
import pytest

from deidc.commands import explain as explain_command
from deidc.compiler import compile_rules
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.codec.files import read_dataset
from deidc.tools.explain import FILE_META_STEP, REMOVED, UnknownTag, explain_dataset, select

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"

RULES = """\
version 1
key = secret("DEIDC_KEY")
day_shift = days(hmac(key, PatientID), -3650..-30)

PatientName -> replace "ANON"
vr DA -> shift day_shift
private "GEMS_IDEN_01" {
  * -> remove
}
OtherPatientIDsSequence/PatientID -> empty
default -> keep
"""
TAG_LINE, VR_LINE, PRIVATE_LINE, PATH_LINE, DEFAULT_LINE = 5, 6, 8, 10, 11


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    rules = tmp_path / "site.deid"
    rules.write_text(RULES, encoding="utf-8")
    dcm = tmp_path / "CT_small.dcm"
    shutil.copyfile(TEST_FILES / "CT_small.dcm", dcm)
    return rules, dcm


@pytest.fixture
def explanation(files):
    rules, dcm = files
    plan = compile_rules(str(rules)).plan
    return explain_dataset(plan, resolve_keys(plan, insecure_demo_key=True), read_dataset(dcm))


def by_path(explanation, path: str):
    return next(row for row in explanation.elements if row.path == path)


def namespace(rules: Path, dcm: Path, tag: str | None = None, plain: bool = True, demo_key: bool = True):
    return argparse.Namespace(rules=str(rules), file=str(dcm), tag=tag, option=[], plain=plain,
                              insecure_demo_key=demo_key)


def test_tag_rule_decides_patient_name(explanation, files):
    row = by_path(explanation, "(0010,0010)")
    assert explanation.quarantine is None
    assert row.name == "PatientName" and row.vr == "PN"
    assert row.rule == f"{files[0]}:{TAG_LINE}" and row.selector == "PatientName"
    assert row.step == "tag"
    assert (row.before, row.after) == ("CompressedSamples^CT1", "ANON")


def test_vr_rule_shifts_dates(explanation, files):
    row = by_path(explanation, "(0008,0020)")  # StudyDate
    assert row.name == "StudyDate" and row.vr == "DA"
    assert row.rule == f"{files[0]}:{VR_LINE}" and row.selector == "vr DA"
    assert row.step == "VR or name"
    assert row.action.startswith("shift ")
    assert row.before == "20040119" and row.after != row.before and len(row.after) == 8


def test_private_block_decides_private_elements(explanation, files):
    row = by_path(explanation, "(0009,1001)")
    assert row.creator == "GEMS_IDEN_01" and row.name == '"GEMS_IDEN_01" 01'
    assert row.rule == f"{files[0]}:{PRIVATE_LINE}" and row.step == "private creator block"
    assert row.action == "remove" and row.before == "GE_GENESIS_FF" and row.after == REMOVED
    creator = by_path(explanation, "(0009,0010)")  # the block is empty afterwards: creator goes too
    assert creator.rule is None and creator.after == REMOVED
    other = by_path(explanation, "(0011,1010)")  # another block: the default keeps it
    assert other.rule == f"{files[0]}:{DEFAULT_LINE}" and other.step == "default" and other.after == "0"


def test_path_rule_reaches_into_the_sequence(explanation, files):
    for index, value in enumerate(("ABCD1234", "1234ABCD")):
        row = by_path(explanation, f"(0010,1002)[{index}]/(0010,0020)")
        assert row.rule == f"{files[0]}:{PATH_LINE}" and row.step == "path"
        assert (row.before, row.after) == (value, "(empty)")
    top = by_path(explanation, "(0010,0020)")  # the top-level PatientID: not the path rule
    assert top.step == "default" and top.after == "1CT1"


def test_select_by_keyword_tag_and_path(explanation):
    assert [r.path for r in select(explanation, "PatientName")] == ["(0010,0010)"]
    assert [r.path for r in select(explanation, "(0010,0010)")] == ["(0010,0010)"]
    assert [r.path for r in select(explanation, "PatientID")] == [
        "(0010,0020)", "(0010,1002)[0]/(0010,0020)", "(0010,1002)[1]/(0010,0020)"]
    assert [r.path for r in select(explanation, "(0010,1002)[1]/(0010,0020)")] == ["(0010,1002)[1]/(0010,0020)"]
    with pytest.raises(UnknownTag, match="did you mean 'PatientName'"):
        select(explanation, "PatientNme")
    with pytest.raises(UnknownTag, match="not in this file"):
        select(explanation, "AdmittingDate")


def test_long_values_are_cut(explanation):
    long_rows = [r for r in explanation.elements if r.before.endswith("…")]
    assert all(len(r.before) == 60 for r in long_rows)
    assert all(len(r.before) <= 60 and len(r.after) <= 60 for r in explanation.elements)


def test_command_prints_one_element(files, capsys):
    rules, dcm = files
    assert explain_command.run(namespace(rules, dcm, tag="PatientName")) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"{dcm}: would be written (not quarantined)"
    assert len(lines) == 3  # the quarantine line, the header, PatientName
    assert f"{rules}:{TAG_LINE}" in lines[2] and " tag " in lines[2] and "ANON" in lines[2]


def test_command_rich_table(files, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    rules, dcm = files
    assert explain_command.run(namespace(rules, dcm, plain=False)) == 0
    out = capsys.readouterr().out
    assert "┃ path" in out and "CompressedSamples^CT1" in out and "private creator block" in out


def test_command_errors(files, tmp_path, capsys, monkeypatch):
    rules, dcm = files
    assert explain_command.run(namespace(rules, dcm, tag="PatientNme")) == 2
    assert "did you mean 'PatientName'" in capsys.readouterr().err
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not dicom at all")
    assert explain_command.run(namespace(rules, bad)) == 2
    assert str(bad) in capsys.readouterr().err.replace("\n", "")
    monkeypatch.delenv("DEIDC_KEY", raising=False)
    assert explain_command.run(namespace(rules, dcm, demo_key=False)) == 2
    assert "DEIDC_KEY" in capsys.readouterr().err


def test_command_reports_quarantine(tmp_path, files, capsys):
    _, dcm = files
    rules = tmp_path / "q.deid"
    rules.write_text('version 1\nwhen Modality = "CT" { quarantine "no CT here" }\ndefault -> keep\n', encoding="utf-8")
    assert explain_command.run(namespace(rules, dcm)) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "QUARANTINED" in first and "no CT here" in first


def test_unknown_elements_and_the_file_meta_are_explained(tmp_path):
    rules = tmp_path / "u.deid"
    rules.write_text('version 1\nunknown * -> remove\nSourceApplicationEntityTitle -> replace "X"\n'
                     "default -> keep\n", encoding="utf-8")
    plan = compile_rules(str(rules)).plan
    ds = read_dataset(TEST_FILES / "CT_small.dcm")
    ds.add_new(0x00100011, "PN", "GALLOWAY^JOHN")  # PatientName with a bit flipped: not in the dictionary
    explanation = explain_dataset(plan, resolve_keys(plan, insecure_demo_key=True), ds)
    unknown = by_path(explanation, "(0010,0011)")
    assert (unknown.name, unknown.rule, unknown.selector, unknown.step) == (
        "(unknown)", f"{rules}:2", "unknown *", "unknown element")
    assert (unknown.before, unknown.after) == ("GALLOWAY^JOHN", REMOVED)
    source = by_path(explanation, "(0002,0016)")
    assert (source.name, source.rule, source.step) == ("SourceApplicationEntityTitle", f"{rules}:3", "tag")
    assert (source.before, source.after) == ("CLUNIE1", "X")
    assert [r.path for r in select(explanation, "SourceApplicationEntityTitle")] == ["(0002,0016)"]
    syntax = by_path(explanation, "(0002,0010)")
    assert syntax.rule is None and syntax.step == FILE_META_STEP and syntax.after == syntax.before
    instance = by_path(explanation, "(0002,0003)")
    assert instance.step == FILE_META_STEP and instance.after == instance.before  # no rule remaps SOPInstanceUID here
    assert explanation.elements.index(syntax) < explanation.elements.index(unknown)  # file order: meta first


def _with_request_attributes(ds, **item_values):
    """CT_small with a RequestAttributesSequence (0040,0275) of one item holding `item_values`."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    item = Dataset()
    for keyword, value in item_values.items():
        setattr(item, keyword, value)
    ds.RequestAttributesSequence = Sequence([item])
    return ds


def test_the_items_of_a_sequence_the_rules_clean_are_explained(tmp_path):
    """ps3.15-basic with clean-descriptors: RequestAttributesSequence -> clean phi. The walk enters
    the items (each element by its own rule, then the free text left is cleaned); explain lists
    every item element with its own rule, as the walk decides it."""
    rules = tmp_path / "site.deid"
    rules.write_text('version 1\nuse "ps3.15-basic" with clean-descriptors\n', encoding="utf-8")
    plan = compile_rules(str(rules)).plan
    ds = _with_request_attributes(read_dataset(TEST_FILES / "CT_small.dcm"),
                                  ScheduledProcedureStepID="SPS1", RequestedProcedureID="RP-GALLOWAY-7")
    explanation = explain_dataset(plan, resolve_keys(plan, insecure_demo_key=True), ds)
    sequence = by_path(explanation, "(0040,0275)")
    assert sequence.action.startswith("clean ") and sequence.after == "1 item(s)"
    for path, name, before in (("(0040,0275)[0]/(0040,0009)", "ScheduledProcedureStepID", "SPS1"),
                               ("(0040,0275)[0]/(0040,1001)", "RequestedProcedureID", "RP-GALLOWAY-7")):
        row = by_path(explanation, path)
        assert (row.name, row.selector, row.step, row.action) == (name, name, "tag", "remove")
        assert (row.before, row.after) == (before, REMOVED)
    assert not [r for r in explanation.elements if r.path.startswith("(0040,0275)[0]") and r.step == "added by deidc"]


def test_free_text_left_in_a_cleaned_sequence_names_its_own_rule_and_the_clean(tmp_path):
    """An item element its own rule keeps is then cleaned by the sequence's `clean`: the row names
    its own rule (as the walk decides it) and says the sequence's clean follows."""
    rules = tmp_path / "site.deid"
    rules.write_text("version 1\ncollect PatientName as phi\nRequestAttributesSequence -> clean phi\n"
                     "RequestedProcedureID -> remove\ndefault -> keep\n", encoding="utf-8")
    plan = compile_rules(str(rules)).plan
    ds = _with_request_attributes(read_dataset(TEST_FILES / "CT_small.dcm"), RequestedProcedureID="RP7",
                                  RequestedProcedureDescription="CompressedSamples follow-up")
    explanation = explain_dataset(plan, resolve_keys(plan, insecure_demo_key=True), ds)
    kept = by_path(explanation, "(0040,0275)[0]/(0032,1060)")
    assert (kept.rule, kept.action) == (f"{rules}:5", "keep")
    assert kept.step == f"default, then its sequence's clean ({rules}:3)"
    assert kept.before == "CompressedSamples follow-up" and "CompressedSamples" not in kept.after
    removed = by_path(explanation, "(0040,0275)[0]/(0040,1001)")  # removed by its own rule: nothing left to clean
    assert (removed.rule, removed.step, removed.after) == (f"{rules}:4", "tag", REMOVED)


def test_a_sequence_stored_as_un_is_kept_whole_and_its_items_are_not_added(tmp_path):
    """rtdose_rle.dcm stores ReferencedRTPlanSequence (300c,0002) with VR UN: the walk does not
    enter it (it keeps it whole), so its items are neither explained nor "added by deidc"."""
    rules = tmp_path / "keep.deid"
    rules.write_text("version 1\ndefault -> keep\n", encoding="utf-8")
    plan = compile_rules(str(rules)).plan
    explanation = explain_dataset(plan, resolve_keys(plan, insecure_demo_key=True),
                                  read_dataset(TEST_FILES / "rtdose_rle.dcm"))
    sequence = by_path(explanation, "(300c,0002)")
    assert sequence.vr == "UN" and sequence.action == "keep"
    assert not [r.path for r in explanation.elements if r.path.startswith("(300c,0002)[")]


def test_explain_names_what_clean_found_and_the_detector_that_removed_it(tmp_path):
    rules = tmp_path / "site.deid"
    rules.write_text("version 1\ncollect PatientName as phi\n"
                     "AdditionalPatientHistory -> clean phi detect address, person\n", encoding="utf-8")
    plan = compile_rules(str(rules)).plan
    ds = read_dataset(TEST_FILES / "CT_small.dcm")
    ds.AdditionalPatientHistory = f"seen with wife Imelda; {str(ds.PatientName).split('^')[0]} lives at 9 Elm Court, Akron, OH 44301"
    explanation = explain_dataset(plan, resolve_keys(plan, insecure_demo_key=True), ds)
    [row] = [r for r in explanation.elements if r.name == "AdditionalPatientHistory"]
    assert "Imelda" not in row.after and "Elm" not in row.after and "OH" not in row.after
    assert set(row.found.split(", ")) >= {"address:detect", "person:detect", "name:exact"}
    [name] = [r for r in explanation.elements if r.name == "PatientName"]
    assert name.found == ""  # not cleaned: nothing found
