"""Compiler checks: each mistake gives its diagnostic (code, severity, file:line:col, hint), and
composition (`use`, `include`, `option`, parameters, markers) builds the Plan it promises."""
from __future__ import annotations

from pathlib import Path

import pytest

from deidc.compiler import compile_or_raise, compile_rules
from deidc.compiler.dispatch import Dispatcher
from deidc.compiler.plan import KeepAction, LookupAction, QuarantineAction, RemapUidAction, ShiftAction, Specificity
from deidc.diagnostics import DeidError
from deidc.resources import RULESETS_DIR

KEY = 'key = secret("DEIDC_KEY")\n'
SHIFT = KEY + "ds = days(hmac(key, PatientID), -10..-1)\n"
BASIC = RULESETS_DIR / "ps3.15-basic.deid"


def only(result, code: str):
    """The single diagnostic with this code (and there must be exactly one)."""
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, [d.render() for d in result.diagnostics]
    return found[0]


def at(diag) -> tuple[str, int, int]:
    return (Path(diag.span.file).name, diag.span.line, diag.span.column)


def winner(plan, tag: int, vr: str, creator: str | None = None):
    conditions = (False,) * len(plan.conditions)
    return Dispatcher(plan).rule_for((), tag, vr, creator, conditions)


# ---- names, VRs, tags ------------------------------------------------------------------------


def test_unknown_keyword_with_did_you_mean(compile_text):
    result = compile_text("# names\nPatientID -> keep\nPatientNmae -> remove\n")
    diag = only(result, "DC001")
    assert diag.severity == "error"
    assert diag.message == "unknown keyword 'PatientNmae'"
    assert at(diag) == ("rules.deid", 3, 1)
    assert diag.span.end_column == 12
    assert diag.hint == "did you mean 'PatientName'?"
    assert [r.origin.selector for r in result.plan.rules] == ["PatientID"]


def test_unknown_keyword_without_close_match_explains_the_choices(compile_text):
    diag = only(compile_text("Zqxjwv -> remove\n"), "DC001")
    assert "keywords are those of the DICOM data dictionary" in diag.hint


def test_shift_on_a_person_name_is_an_error(compile_text):
    result = compile_text(SHIFT + "PatientName -> shift ds\n")
    diag = only(result, "DC030")
    assert diag.severity == "error"
    assert diag.message == "a date shift cannot apply to PatientName (PN)"
    assert at(diag) == ("rules.deid", 3, 16)  # the action
    assert "DA, DT and TM" in diag.hint


def test_shift_on_a_vr_selector_of_the_wrong_vr_is_an_error(compile_text):
    diag = only(compile_text(SHIFT + "vr PN, LO -> shift ds\n"), "DC030")
    assert (diag.severity, diag.message) == ("error", "a date shift cannot apply to vr PN, LO (LO, PN)")


def test_shift_over_mixed_vrs_is_a_warning(compile_text):
    diag = only(compile_text(SHIFT + "name ~ /^Patient(Name|BirthDate)$/ -> shift ds\n"), "DC030")
    assert diag.severity == "warning"
    assert "(PN)" in diag.message


def test_shift_on_dates_is_fine(compile_text):
    result = compile_text(SHIFT + "StudyDate, vr DA, DT, TM -> shift ds\n")
    assert result.diagnostics == []
    assert all(isinstance(r.action, ShiftAction) for r in result.plan.rules)


def test_remap_uid_on_a_non_uid_is_an_error(compile_text):
    diag = only(compile_text(KEY + "PatientID -> remap uid\n"), "DC030")
    assert diag.message == "UID remapping cannot apply to PatientID (LO)"


def test_replace_a_number_with_a_number_is_fine(compile_text):
    assert compile_text("Rows -> replace 0\nPatientAge -> replace \"042Y\"\n").diagnostics == []


def test_replace_a_number_with_text_is_an_error(compile_text):
    diag = only(compile_text('Rows -> replace "abc"\n'), "DC030")
    assert diag.message == "Rows holds numbers; 'abc' is not one"


def test_private_tag_in_even_group(compile_text):
    result = compile_text('PatientID -> keep\n(0010,"ACME",10) -> remove\n')
    diag = only(result, "DC006")
    assert diag.severity == "error"
    assert at(diag) == ("rules.deid", 2, 1)
    assert "even group 0010" in diag.message
    assert len(result.plan.rules) == 1


def test_mask_that_matches_nothing_warns(compile_text):
    result = compile_text("(5xx2,00x1) -> remove\n")
    diag = only(result, "DC004")
    assert diag.severity == "warning"
    assert diag.message == "mask (5xx2,00x1) matches no attribute of the data dictionary"
    assert at(diag) == ("rules.deid", 1, 1)
    assert len(result.plan.masks) == 1  # a warning: the rule is kept


@pytest.mark.parametrize("mask", ["(60xx,3000)", "(60XX,4000)", "(50xx,xxxx)", "(0019,xxxx)", "(0010,xx20)"])
def test_mask_that_matches_a_repeater_attribute_or_private_group_does_not_warn(compile_text, mask):
    assert compile_text(f"{mask} -> remove\n").diagnostics == []


def test_name_pattern_that_matches_nothing_warns(compile_text):
    diag = only(compile_text("name ~ /^Zzqx/ -> remove\n"), "DC004")
    assert diag.severity == "warning"


def test_bad_name_regex(compile_text):
    assert only(compile_text("name ~ /(/ -> remove\n"), "DC005").severity == "error"


def test_unknown_vr(compile_text):
    result = compile_text("PatientID -> keep\nvr DA, QQ -> remove\n")
    diag = only(result, "DC003")
    assert (diag.severity, diag.message) == ("error", "unknown VR QQ")
    assert at(diag) == ("rules.deid", 2, 1)
    assert diag.hint
    assert result.plan.by_vr == {}


# ---- actions and parameters ------------------------------------------------------------------


def test_pseudonym_with_a_bad_template(compile_text):
    diag = only(compile_text(KEY + 'PatientID -> pseudonym "P-{foo:3}"\n'), "DC020")
    assert at(diag) == ("rules.deid", 2, 14)
    assert "{foo:3}" in diag.message
    assert "{hmac:N}" in diag.hint


def test_shift_parameter_missing(compile_text):
    diag = only(compile_text("StudyDate -> shift nope\n"), "DC021")
    assert diag.message == "'nope' is not a shift parameter"
    assert at(diag) == ("rules.deid", 1, 14)
    assert diag.hint.startswith("define it, e.g. nope = days(")


def test_shift_parameter_typo_gets_did_you_mean(compile_text):
    result = compile_text(KEY + "date_shift = days(hmac(key, PatientID), -10..-1)\nStudyDate -> shift date_shfit\n")
    assert only(result, "DC021").hint == "did you mean 'date_shift'?"


def test_shift_parameter_is_not_a_secret_param(compile_text):
    # a name defined as a string is not a shift parameter
    assert only(compile_text('ds = "x"\nStudyDate -> shift ds\n'), "DC021")


def test_keyed_action_without_secret(compile_text):
    result = compile_text("PatientID -> hash\n")
    diag = only(result, "DC022")
    assert diag.message == "no secret named 'key' for this keyed action"
    assert at(diag) == ("rules.deid", 1, 14)
    assert 'key = secret("DEIDC_KEY")' in diag.hint
    assert result.plan.rules == []


@pytest.mark.parametrize("rule", [
    "PatientID -> hash using other",
    "PatientID -> pseudonym \"P-{hex:4}\" using other",
    "StudyInstanceUID -> remap uid root \"1.2.3\" using other",
])
def test_keyed_action_names_an_unknown_secret(compile_text, rule):
    diag = only(compile_text(KEY + rule + "\n"), "DC022")
    assert diag.message == "no secret named 'other' for this keyed action"
    assert diag.span.line == 2


def test_shift_keyed_by_a_non_secret(compile_text):
    result = compile_text('salt = "abc"\nds = days(hmac(salt, PatientID), -10..-1)\n')
    diag = only(result, "DC022")
    assert at(diag) == ("rules.deid", 2, 6)
    assert result.plan.shifts == {}


def test_shift_with_an_empty_range(compile_text):
    assert only(compile_text(KEY + "ds = days(hmac(key, PatientID), -1..-10)\n"), "DC025").span.line == 2


def test_secret_file_is_resolved_next_to_the_rule_file(compile_text, tmp_path):
    plan = compile_text('k = secret(file "keys/site.key")\n', name="sub/rules.deid").plan
    assert plan.secrets["k"].kind == "file"
    assert plan.secrets["k"].name == str((tmp_path / "sub" / "keys" / "site.key").resolve())


def test_lookup_table_missing(compile_text):
    result = compile_text("PatientID -> lookup \"ids.csv\" else keep\n")
    diag = only(result, "DC024")
    assert diag.severity == "error"
    assert at(diag) == ("rules.deid", 1, 14)
    assert diag.message.startswith("cannot read lookup table ids.csv")
    assert result.plan.rules == []


def test_lookup_table_with_a_bad_row(compile_text, write_rules):
    write_rules("ids.csv", "old,new\nA\n")
    assert "line 2 has 1 column(s)" in only(compile_text('PatientID -> lookup "ids.csv" else keep\n'), "DC024").message


def test_lookup_table_is_loaded_relative_to_the_rule_file(compile_text, write_rules):
    write_rules("tables/ids.csv", "old,new\nP001, S-1 \nP002,S-2\n")
    result = compile_text('PatientID -> lookup "../tables/ids.csv" else quarantine "unknown"\n', name="rules/main.deid")
    assert result.diagnostics == []
    action = result.plan.rules[0].action
    assert isinstance(action, LookupAction)
    assert action.table == {"P001": "S-1", "P002": "S-2"}
    assert action.fallback == QuarantineAction("unknown")


def test_lookup_fallback_cannot_be_a_lookup(compile_text):
    diag = only(compile_text('PatientID -> lookup "a.csv" else lookup "b.csv" else keep\n'), "DC023")
    assert at(diag) == ("rules.deid", 1, 34)


# ---- composition: use, options, include ------------------------------------------------------


def test_use_basic_profile_remaps_study_uid(compile_text):
    result = compile_text('use "ps3.15-basic"\n')
    assert result.errors == []
    rule = winner(result.plan, 0x0020000D, "UI")
    assert isinstance(rule.action, RemapUidAction)
    assert rule.origin.file == str(BASIC)


def test_use_basic_profile_with_retain_uids_keeps_study_uid(compile_text):
    result = compile_text('use "ps3.15-basic" with retain-uids\n')
    assert result.errors == []
    rule = winner(result.plan, 0x0020000D, "UI")
    assert isinstance(rule.action, KeepAction)
    assert rule.origin.file == str(BASIC)
    assert BASIC.read_text(encoding="utf-8").splitlines()[rule.origin.line - 1].strip().startswith("StudyInstanceUID -> keep")


def test_use_slash_form_reads_the_same_profile(compile_text):
    dashed = compile_text('use "ps3.15-basic" with retain-uids\n', name="a.deid")
    slashed = compile_text('use "ps3.15/basic" with retain-uids\n', name="b.deid")
    assert slashed.diagnostics == []
    assert [r.action for r in slashed.plan.rules] == [r.action for r in dashed.plan.rules]
    assert slashed.plan.sources[1] == str(BASIC)


BUG_CLEAN_VRS = (
    "BUG: the shipped ps3.15-basic profile does not compile with this option: "
    "scripts/generate_ps315.py maps table code C to `clean phi` for every non-date attribute, "
    "including AE and CS ones (e.g. StationAETitle, ReasonForTheAttributeModification), while "
    "the clean entry's vrs in compiler/action_specs.py excludes AE and CS, so each is a DC030 error")
BASIC_OPTIONS = ["clean-descriptors", "clean-graphics", "clean-structured-content", "keep-unknown-elements",
                 "retain-device-identity", "retain-institution-identity",
                 "retain-longitudinal-full-dates", "retain-longitudinal-modified-dates",
                 "retain-patient-characteristics", "retain-safe-private", "retain-uids"]


@pytest.mark.parametrize("option", BASIC_OPTIONS)
def test_every_option_of_the_basic_profile_compiles(compile_text, option):
    result = compile_text(f'use "ps3.15-basic" with {option}\n')
    assert [d.render() for d in result.errors] == []


def test_basic_profile_declares_the_options_listed_here():
    from deidc.compiler.expand import _declared_options
    from deidc.dsl.parser import parse_file

    assert sorted(_declared_options(parse_file(BASIC).statements)) == BASIC_OPTIONS


def test_unknown_option_with_did_you_mean(compile_text):
    result = compile_text('# my rules\nuse "ps3.15-basic" with retain-uid\n')
    diag = only(result, "DC010")
    assert at(diag) == ("rules.deid", 2, 1)  # points at the `use` in the user's file
    assert "has no option 'retain-uid'" in diag.message
    assert diag.hint == "did you mean 'retain-uids'?"


def test_unknown_option_on_the_command_line(write_rules):
    path = write_rules("rules.deid", "option strict { default -> remove }\n")
    diag = only(compile_rules(path, ("strcit",)), "DC010")
    assert at(diag) == ("rules.deid", 1, 1)
    assert diag.hint == "did you mean 'strict'?"
    assert compile_rules(path, ("strict",)).diagnostics == []


def test_option_blocks_apply_only_when_selected(write_rules):
    path = write_rules("rules.deid", "default -> keep\noption strict {\n  default -> remove\n}\n")
    assert winner(compile_rules(path).plan, 0x00100010, "PN").origin.line == 1
    assert winner(compile_rules(path, ("strict",)).plan, 0x00100010, "PN").origin.line == 3


def test_unknown_profile(compile_text):
    diag = only(compile_text('use "ps3.15-basik"\n'), "DC012")
    assert at(diag) == ("rules.deid", 1, 1)
    assert diag.hint == "did you mean 'ps3.15-basic'?"


def test_include_is_relative_to_the_including_file(compile_text, write_rules, tmp_path):
    write_rules("common/site.deid", "include \"more/extra.deid\"\nPatientID -> empty\n")
    write_rules("common/more/extra.deid", "PatientSex -> keep\n")
    result = compile_text('include "common/site.deid"\nPatientName -> remove\n')
    assert result.diagnostics == []
    by_selector = {r.origin.selector: (Path(r.origin.file).relative_to(tmp_path).as_posix(), r.origin.line)
                   for r in result.plan.rules}
    assert by_selector == {
        "PatientSex": ("common/more/extra.deid", 1),
        "PatientID": ("common/site.deid", 2),
        "PatientName": ("rules.deid", 2),
    }
    assert [r.origin.selector for r in result.plan.rules] == ["PatientSex", "PatientID", "PatientName"]


def test_include_missing(compile_text):
    diag = only(compile_text('PatientID -> keep\ninclude "nope.deid"\n'), "DC013")
    assert at(diag) == ("rules.deid", 2, 1)


def test_include_cycle(compile_text, write_rules):
    write_rules("sub/a.deid", 'PatientName -> remove\ninclude "b.deid"\n')
    write_rules("sub/b.deid", 'PatientSex -> keep\ninclude "a.deid"\n')
    result = compile_text('include "sub/a.deid"\n', name="main.deid")
    diag = only(result, "DC014")
    assert at(diag) == ("b.deid", 2, 1)
    assert diag.message == "'a.deid' includes itself (cycle: main.deid -> a.deid -> b.deid)"
    assert [r.origin.selector for r in result.plan.rules] == ["PatientName", "PatientSex"]


def test_a_file_including_itself(compile_text):
    diag = only(compile_text('include "rules.deid"\n'), "DC014")
    assert at(diag) == ("rules.deid", 1, 1)


def test_diagnostic_inside_an_included_file_names_that_file(compile_text, write_rules):
    write_rules("lib/site.deid", "# site\n\nPatientNmae -> remove\n")
    diag = only(compile_text('include "lib/site.deid"\n'), "DC001")
    assert at(diag) == ("site.deid", 3, 1)
    assert Path(diag.span.file).parent.name == "lib"


def test_unsupported_version(compile_text):
    diag = only(compile_text("version 2\n"), "DC011")
    assert at(diag) == ("rules.deid", 1, 1)


# ---- parameters and markers ------------------------------------------------------------------


def test_user_key_defined_after_use_overrides_the_profile_key(compile_text):
    result = compile_text('use "ps3.15-basic"\nkey = secret(env "SITE_KEY")\n')
    secret = result.plan.secrets["key"]
    assert (secret.kind, secret.name) == ("env", "SITE_KEY")
    assert (Path(secret.origin.file).name, secret.origin.line) == ("rules.deid", 2)


def test_key_defined_before_use_is_overridden_by_the_profile(compile_text):
    result = compile_text('key = secret(env "SITE_KEY")\nuse "ps3.15-basic"\n')
    assert result.plan.secrets["key"].name == "DEIDC_KEY"


def test_later_shift_definition_overrides(compile_text):
    result = compile_text('use "ps3.15-basic"\ndate_shift = days(hmac(key, PatientID), -7..-1)\n')
    shift = result.plan.shifts["date_shift"]
    assert (shift.low, shift.high, shift.source_tag) == (-7, -1, 0x00100020)


def test_a_param_redefined_with_another_kind_leaves_the_old_table(compile_text):
    result = compile_text('key = secret("K")\nkey = "plain text"\nPatientID -> hash\n')
    assert "key" not in result.plan.secrets
    assert only(result, "DC022")


def test_marker_codes_accumulate_across_options(compile_text):
    result = compile_text('use "ps3.15-basic" with retain-patient-characteristics, retain-uids\n'
                          'markers codes 113101, 113100\n')
    assert result.errors == []
    markers = result.plan.markers
    assert markers.method == "deidc: PS3.15 Basic Application Confidentiality Profile"
    # profile order (options where declared), then the user's new code; duplicates dropped
    assert [c.value for c in markers.codes] == ["113100", "113110", "113108", "113101"]
    assert markers.codes[1].meaning == "Retain UIDs Option"


def test_markers_method_replaced_codes_kept(compile_text):
    result = compile_text('markers "site A" codes 113100\nmarkers codes 113110\nmarkers "site B"\n')
    assert result.plan.markers.method == "site B"
    assert [c.value for c in result.plan.markers.codes] == ["113100", "113110"]


def test_markers_checks(compile_text):
    result = compile_text(f'markers "{"x" * 65}" codes 999\n')
    assert only(result, "DC026").message == "999 is not a de-identification method code (CID 7050)"
    assert "65 characters" in only(result, "DC027").message


# ---- conditions ------------------------------------------------------------------------------


def test_unknown_keyword_in_a_condition(compile_text):
    result = compile_text("default -> keep\nwhen Modalty = MR {\n  PatientName -> remove\n}\n")
    diag = only(result, "DC001")
    assert at(diag) == ("rules.deid", 2, 6)
    assert diag.hint == "did you mean 'Modality'?"
    assert [r.origin.selector for r in result.plan.rules] == ["default"]  # the guarded rule is dropped
    assert result.plan.conditions == []


def test_conditions_are_shared_and_nested_conditions_conjoined(compile_text):
    result = compile_text(
        "when Modality = MR { PatientName -> remove }\n"
        "when Modality = MR { PatientID -> remove\n  when exists (0008,0080) { PatientSex -> remove } }\n")
    assert result.errors == []
    plan = result.plan
    assert [r.condition for r in plan.rules] == [0, 0, 1]
    assert type(plan.conditions[1]).__name__ == "AllTrue"


def test_bad_regex_in_a_condition(compile_text):
    assert only(compile_text("when PatientName ~ /(/ { quarantine \"x\" }\n"), "DC005").span.line == 1


def test_unknown_keyword_in_a_condition_is_reported_once(compile_text):
    result = compile_text("when Modalty = MR {\n  PatientName -> keep\n  PatientID -> keep\n}\n")
    only(result, "DC001")


def test_action_error_on_a_rule_with_two_selectors_is_reported_once(compile_text):
    only(compile_text("PatientName, PatientID -> hash\n"), "DC022")


# ---- unknown elements and the file meta group --------------------------------------------------


def test_unknown_default_has_its_own_index_and_specificity(compile_text):
    result = compile_text("default -> keep\nunknown * -> remove\nprivate * -> remove\n")
    assert result.diagnostics == []
    plan = result.plan
    [rid] = plan.unknown_defaults
    rule = plan.rules[rid]
    assert (rule.origin.selector, rule.origin.line, rule.specificity) == ("unknown *", 2, Specificity.UNKNOWN)
    assert Specificity.MASK > Specificity.UNKNOWN > Specificity.VR_OR_NAME
    assert rid not in plan.defaults and rid not in plan.private_defaults
    assert winner(plan, 0x00100011, "PN") is rule  # not in the dictionary
    assert winner(plan, 0x00100010, "PN").origin.line == 1  # PatientName: default
    assert winner(plan, 0x60023000, "OW").origin.line == 1  # overlay data (60xx,3000): known
    assert winner(plan, 0x00191010, "LO", "ACME").origin.line == 3  # private


@pytest.mark.parametrize("selector, column", [
    ("TransferSyntaxUID", 1), ("(0002,0010)", 1), ("*/TransferSyntaxUID", 1),
    ("PatientName, TransferSyntaxUID", 14),
])
def test_a_rule_on_a_file_meta_element_deidc_writes_is_an_error(compile_text, selector, column):
    result = compile_text(f'# meta\n{selector} -> replace "1.2.840.10008.1.2"\n')
    diag = only(result, "DC034")
    assert diag.severity == "error"
    assert diag.message.startswith("deidc writes this file-meta element itself: TransferSyntaxUID (0002,0010); ")
    assert "transfer syntax" in diag.message
    assert at(diag) == ("rules.deid", 2, column)
    assert diag.hint and "delete the rule" in diag.hint
    assert all(r.origin.selector != selector.split(", ")[-1] for r in result.plan.rules)


@pytest.mark.parametrize("keyword", ["FileMetaInformationGroupLength", "FileMetaInformationVersion",
                                     "MediaStorageSOPClassUID", "MediaStorageSOPInstanceUID", "TransferSyntaxUID",
                                     "ImplementationClassUID", "ImplementationVersionName"])
def test_every_file_meta_element_deidc_writes_is_refused(compile_text, keyword):
    diag = only(compile_text(f"{keyword} -> remove\n"), "DC034")
    assert keyword in diag.message


def test_media_storage_sop_instance_uid_points_at_sop_instance_uid(compile_text):
    diag = only(compile_text(KEY + "MediaStorageSOPInstanceUID -> remap uid\n"), "DC034")
    assert "SOPInstanceUID" in diag.hint


def test_broad_selectors_and_excepts_may_cover_file_meta_elements_deidc_writes(compile_text):
    result = compile_text(KEY + "vr UI except SOPClassUID, TransferSyntaxUID -> remap uid\n"
                          "(0002,xxxx) -> remove\ndefault -> remove\nunknown * -> remove\n")
    assert result.errors == []  # the walk leaves those elements out (tests/runtime/test_walk.py)


def test_rules_on_identifying_file_meta_elements_compile_and_decide(compile_text):
    result = compile_text('default -> keep\nSourceApplicationEntityTitle -> replace "X"\nPrivateInformation -> remove\n')
    assert result.diagnostics == []
    assert winner(result.plan, 0x00020016, "AE").origin.line == 2
    assert winner(result.plan, 0x00020102, "OB").origin.line == 3


# ---- compile_or_raise ------------------------------------------------------------------------


def test_compile_or_raise(write_rules):
    bad = write_rules("bad.deid", "PatientNmae -> remove\n(5xx2,00x1) -> remove\n")
    with pytest.raises(DeidError) as info:
        compile_or_raise(bad)
    assert [d.code for d in info.value.diagnostics] == ["DC001"]  # errors only
    ok = write_rules("ok.deid", "(5xx2,00x1) -> remove\n")
    assert [d.code for d in compile_or_raise(ok).diagnostics] == ["DC004"]


def test_syntax_error_raises(write_rules):
    with pytest.raises(DeidError) as info:
        compile_rules(write_rules("bad.deid", "PatientName remove\n"))
    assert info.value.diagnostics[0].code == "DS001"
