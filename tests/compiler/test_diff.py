"""`deidc diff`: two Plans compared on their effective decisions (`deidc.tools.diff`)."""
from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from deidc.commands.diff import render
from deidc.compiler import compile_rules
from deidc.tools.diff import GROUPS, Side, count_by_group, diff_plans

RULESETS = Path(__file__).resolve().parents[2] / "rulesets"


def _diff(write_rules, text_a: str, text_b: str):
    a = compile_rules(write_rules("a.deid", text_a))
    b = compile_rules(write_rules("b.deid", text_b))
    assert not a.errors and not b.errors
    return diff_plans(a.plan, b.plan)


BASE = """\
PatientName -> replace "X"
(0019,"ACME",10) -> keep
private "ACME" {
  * -> dummy
}
(0010,xxxx) -> dummy
vr PN -> empty
*/PatientID -> remove
private * -> remove
default -> keep
"""


def test_reordered_rules_show_no_difference(write_rules):
    lines = BASE.splitlines()
    reordered = "\n".join(lines[8:] + lines[5:8] + lines[1:5] + lines[:1]) + "\n"
    assert reordered != BASE and sorted(reordered.splitlines()) == sorted(lines)
    assert _diff(write_rules, BASE, reordered) == []


def test_identical_files_show_no_difference(write_rules):
    assert _diff(write_rules, BASE, BASE) == []


def test_changed_action_is_one_difference_with_both_origins(write_rules):
    changed = BASE.replace('PatientName -> replace "X"', 'PatientName -> replace "Y"')
    diffs = _diff(write_rules, BASE, changed)
    assert len(diffs) == 1
    (d,) = diffs
    assert d.group == "tags" and "PatientName" in d.key
    assert d.a.action == 'replace "X"' and d.b.action == 'replace "Y"'
    assert d.a.origin.endswith("a.deid:1") and d.b.origin.endswith("b.deid:1")


def test_change_shadowed_by_a_more_specific_rule_in_both_is_not_a_difference(write_rules):
    # the tag rule is changed, but a path matching top-level PatientName beats it in both files
    a = "*/PatientName -> remove\nPatientName -> empty\ndefault -> keep\n"
    b = "*/PatientName -> remove\nPatientName -> dummy\ndefault -> keep\n"
    assert _diff(write_rules, a, b) == []
    # the private element rule is changed, but the tag (0019,1010) beats it in both files
    a = '(0019,1010) -> remove\n(0019,"ACME",10) -> keep\n'
    b = '(0019,1010) -> remove\n(0019,"ACME",10) -> empty\n'
    assert _diff(write_rules, a, b) == []


def test_new_more_specific_rule_changes_that_tag_only(write_rules):
    a = "vr PN -> empty\ndefault -> keep\n"
    b = "vr PN -> empty\nPatientName -> remove\ndefault -> keep\n"
    diffs = _diff(write_rules, a, b)
    assert len(diffs) == 1
    (d,) = diffs
    assert d.group == "tags" and d.key == "PatientName (0010,0010)"
    assert d.a == Side("empty", d.a.origin) and d.a.origin.endswith("a.deid:1")
    assert d.b.action == "remove" and d.b.origin.endswith("b.deid:2")


def test_rule_only_in_one_file_is_compared_with_no_rule(write_rules):
    diffs = _diff(write_rules, "PatientID -> remove\n", "PatientID -> remove\nvr DA -> empty\n")
    groups = count_by_group(diffs)
    assert groups["VR defaults"] == 1 and groups["tags"] > 1  # every DA attribute
    vr = next(d for d in diffs if d.group == "VR defaults")
    assert vr.key == "vr DA" and vr.a == Side("no rule: kept", None)


def test_private_and_conditional_groups(write_rules):
    a = 'private "ACME" { * -> dummy }\nwhen Modality = MR { PatientName -> remove }\n'
    b = 'private "ACME" { * -> empty }\nwhen Modality = MR { PatientName -> empty }\n'
    counts = count_by_group(_diff(write_rules, a, b))
    assert counts["private blocks"] == 1 and counts["conditional rules"] == 1
    assert sum(counts.values()) == 2


def test_unknown_default_is_compared_with_the_defaults(write_rules):
    diffs = _diff(write_rules, "default -> keep\n", "default -> keep\nunknown * -> remove\n")
    assert [(d.group, d.key, d.a.action, d.b.action) for d in diffs] == [
        ("defaults", "unknown *", "no rule: kept", "remove")]
    assert diffs[0].b.origin.endswith("b.deid:2")
    assert _diff(write_rules, "unknown * -> remove\nvr PN -> empty\n", "vr PN -> empty\nunknown * -> remove\n") == []


def test_rules_on_file_meta_elements_are_compared(write_rules):
    diffs = _diff(write_rules, "default -> keep\n", "default -> keep\nSourceApplicationEntityTitle -> remove\n")
    assert [(d.group, d.key) for d in diffs] == [("tags", "SourceApplicationEntityTitle (0002,0016)")]
    # a broad rule does not reach what deidc writes itself, so no difference shows there
    diffs = _diff(write_rules, "default -> keep\n", "default -> keep\nvr UI -> empty\n")
    keys = {d.key for d in diffs}
    assert "PrivateInformationCreatorUID (0002,0100)" in keys and "SOPInstanceUID (0008,0018)" in keys
    assert not keys & {"TransferSyntaxUID (0002,0010)", "MediaStorageSOPInstanceUID (0002,0003)"}


def test_ps315_basic_against_tcia_and_render():
    a = compile_rules(RULESETS / "ps3.15-basic.deid")
    b = compile_rules(RULESETS / "tcia.deid")
    diffs = diff_plans(a.plan, b.plan)
    counts = count_by_group(diffs)
    assert counts["tags"] > 0 and counts["private elements"] > 0 and counts["paths"] > 0
    study = [d for d in diffs if d.key.startswith("StudyDescription ")]
    assert len(study) == 1 and study[0].a.action != study[0].b.action
    out = io.StringIO()
    render(diffs, "a.deid", "b.deid", Console(file=out, width=100, no_color=True, soft_wrap=True))
    text = out.getvalue()
    assert "StudyDescription (0008,1030): remove" in text
    assert f"{len(diffs)} differences: " in text
    assert all(f"{group} {counts[group]}" in text for group in GROUPS)
