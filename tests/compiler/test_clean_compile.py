"""`collect ... as NAME` and `clean NAME ...` in the compiler: the diagnostics for each mistake
(code, message, position, hint) and the Plan a good file gives (PHI sets with the kind of each
attribute, CleanActions with their matchers)."""
from __future__ import annotations

from pathlib import Path

import pytest

from deidc.compiler import compile_or_raise
from deidc.compiler.build import phi_kind
from deidc.compiler.plan import CleanAction
from deidc.diagnostics import DeidError
from deidc.tools.show import format_plan

HEADER = ('version 1\nkey = secret("DEIDC_KEY")\n'
          'day_shift = days(hmac(key, PatientID), -3650..-30)\n')  # lines 1-3
COLLECT = "collect PatientName, PatientID as phi\n"  # line 4


def only(result, code: str):
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, [d.render() for d in result.diagnostics]
    assert len(result.diagnostics) == 1, [d.render() for d in result.diagnostics]
    return found[0]


def at(diag) -> tuple[str, int, int]:
    return (Path(diag.span.file).name, diag.span.line, diag.span.column)


def clean_actions(plan) -> list[CleanAction]:
    return [rule.action for rule in plan.rules if isinstance(rule.action, CleanAction)]


# ---- DC032: a clean with no PHI set ------------------------------------------------------------


def test_clean_without_any_collect(compile_text):
    result = compile_text(HEADER + "StudyDescription -> clean phi fuzzy 90\n")
    diag = only(result, "DC032")
    assert diag.severity == "error"
    assert diag.message == "no PHI set named 'phi'"
    assert at(diag) == ("rules.deid", 4, 1)
    assert diag.hint == "collect it first, e.g. `collect PatientName, PatientID as phi`"


def test_clean_naming_another_set_gets_a_did_you_mean(compile_text):
    result = compile_text(HEADER + "collect PatientName as patient_phi\nStudyDescription -> clean patient_ph\n")
    diag = only(result, "DC032")
    assert diag.message == "no PHI set named 'patient_ph'"
    assert diag.hint == "did you mean 'patient_phi'?"
    assert at(diag) == ("rules.deid", 5, 1)


def test_one_dc032_per_missing_set(compile_text):
    result = compile_text(HEADER + "StudyDescription, SeriesDescription -> clean phi\nProtocolName -> clean phi\n")
    assert [d.code for d in result.diagnostics] == ["DC032"]


def test_collect_after_the_clean_is_fine(compile_text):
    result = compile_text(HEADER + "StudyDescription -> clean phi\n" + COLLECT)
    assert result.diagnostics == []
    assert set(result.plan.collects) == {"phi"}


def test_collect_in_an_unselected_option_does_not_count(compile_text):
    text = HEADER + "option notes { collect PatientName as phi }\nStudyDescription -> clean phi\n"
    assert only(compile_text(text), "DC032").message == "no PHI set named 'phi'"
    assert compile_text(text, options=("notes",)).diagnostics == []


# ---- DC028, DC029, DC021, DC005: matchers ------------------------------------------------------


def test_unknown_pattern_gets_a_did_you_mean(compile_text):
    result = compile_text(HEADER + COLLECT + "StudyDescription -> clean phi regex ssn, emial\n")
    diag = only(result, "DC028")
    assert diag.severity == "error"
    assert diag.message == "unknown pattern 'emial'"
    assert diag.hint == "did you mean 'email'?"
    assert at(diag) == ("rules.deid", 5, 31)  # the regex matcher
    assert clean_actions(result.plan) == []


def test_unknown_pattern_without_a_close_match_lists_the_patterns(compile_text):
    diag = only(compile_text(HEADER + COLLECT + "StudyDescription -> clean phi regex zzqqxx\n"), "DC028")
    assert diag.hint == "built-in patterns: ssn, phone, email, mrn, person, date; or write /regex/"


@pytest.mark.parametrize("threshold", [30, 49, 101])
def test_fuzzy_threshold_outside_50_to_100(compile_text, threshold):
    result = compile_text(HEADER + COLLECT + f"StudyDescription -> clean phi fuzzy {threshold}\n")
    diag = only(result, "DC029")
    assert diag.message == f"fuzzy threshold {threshold} is outside 50..100"
    assert diag.hint == "e.g. fuzzy 88"
    assert at(diag) == ("rules.deid", 5, 31)
    assert clean_actions(result.plan) == []


@pytest.mark.parametrize("threshold", [50, 100])
def test_fuzzy_threshold_bounds_are_accepted(compile_text, threshold):
    result = compile_text(HEADER + COLLECT + f"StudyDescription -> clean phi fuzzy {threshold}\n")
    assert result.diagnostics == []
    assert clean_actions(result.plan)[0].fuzzy == threshold


def test_dates_shift_with_an_unknown_parameter(compile_text):
    result = compile_text(HEADER + COLLECT + "StudyDescription -> clean phi, dates shift nosuch\n")
    diag = only(result, "DC021")
    assert diag.message == "'nosuch' is not a shift parameter"
    assert diag.hint == "define it with days(hmac(...), a..b)"
    assert at(diag) == ("rules.deid", 5, 32)


def test_dates_shift_with_a_misspelt_parameter(compile_text):
    diag = only(compile_text(HEADER + COLLECT + "StudyDescription -> clean phi dates shift day_shfit\n"), "DC021")
    assert diag.hint == "did you mean 'day_shift'?"


def test_bad_custom_regex(compile_text):
    diag = only(compile_text(HEADER + COLLECT + "StudyDescription -> clean phi regex /a(b/\n"), "DC005")
    assert diag.message.startswith("bad regex /a(b/:")


def test_clean_on_a_date_is_a_vr_error(compile_text):
    diag = only(compile_text(HEADER + COLLECT + "StudyDate -> clean phi\n"), "DC030")
    assert diag.message == "clean cannot apply to StudyDate (DA)"
    assert diag.hint == "clean applies to free text (LO, SH, ST, LT, UT, UC, PN) and SR content"


def test_compile_or_raise_refuses_a_bad_clean(write_rules):
    path = write_rules("rules.deid", HEADER + "StudyDescription -> clean phi fuzzy 30\n")
    with pytest.raises(DeidError) as err:
        compile_or_raise(path)
    assert {d.code for d in err.value.diagnostics} >= {"DC029"}


# ---- DC031: collect takes attributes ---------------------------------------------------------


@pytest.mark.parametrize("selector", ["vr PN", "ContentSequence/TextValue", "(0010,xxxx)",
                                      '(0033,"ACME_NOTES",01)'])
def test_collect_needs_attributes(compile_text, selector):
    result = compile_text(HEADER + f"collect {selector} as phi\nStudyDescription -> clean phi\n")
    diag = only(result, "DC031")
    assert diag.severity == "error"
    assert diag.message == f"collect takes attributes by keyword, tag or name pattern, not {selector}"
    assert diag.hint == "name the attributes whose values are PHI, e.g. PatientName"
    assert at(diag) == ("rules.deid", 4, 9)


def test_collect_vr_pn_message(compile_text):
    diag = only(compile_text(HEADER + "collect vr PN as phi\nStudyDescription -> clean phi\n"), "DC031")
    assert diag.message == "collect takes attributes by keyword, tag or name pattern, not vr PN"


# ---- a good file -----------------------------------------------------------------------------


GOOD = HEADER + """\
collect PatientName, PatientBirthDate, PatientTelephoneNumbers, InstitutionName, PatientID as phi
collect (0010,1040), name ~ /^OtherPatientNames$/ as phi
StudyDescription -> clean phi fuzzy 88, regex ssn, phone, /\\bBED \\d+/i, dates shift day_shift
SeriesDescription -> clean phi exact, regex date
ProtocolName -> clean phi dates remove
*/TextValue -> clean phi
"""


def test_good_file_plan(compile_text):
    result = compile_text(GOOD)
    assert result.diagnostics == []
    plan = result.plan
    assert set(plan.collects) == {"phi"}
    collection = plan.collects["phi"]
    assert collection.tags == {
        0x00100010: "name",   # PatientName
        0x00100030: "date",   # PatientBirthDate
        0x00102154: "phone",  # PatientTelephoneNumbers
        0x00080080: "place",  # InstitutionName
        0x00100020: "id",     # PatientID
        0x00101040: "place",  # PatientAddress, by tag
        0x00101001: "name",   # OtherPatientNames, by name pattern
    }
    assert collection.name == "phi"
    assert (Path(collection.origin.file).name, collection.origin.line) == ("rules.deid", 5)
    assert clean_actions(plan) == [
        CleanAction("phi", 88, ("ssn", "phone", "/\\bBED \\d+/i"), "shift", "day_shift"),
        CleanAction("phi", None, (), "remove", None),   # `regex date` = dates remove
        CleanAction("phi", None, (), "remove", None),
        CleanAction("phi", None, (), None, None),       # exact matching only
    ]


def test_good_file_show_lists_the_phi_set(compile_text):
    shown = format_plan(compile_text(GOOD).plan)
    assert "[PHI sets]" in shown
    assert ("\nphi: (0008,0080) place, (0010,0010) name, (0010,0020) id, (0010,0030) date, "
            "(0010,1001) name, (0010,1040) place, (0010,2154) phone\n") in shown


@pytest.mark.parametrize("keyword, kind", [
    ("PatientName", "name"), ("ReferringPhysicianName", "name"), ("PatientBirthDate", "date"),
    ("AcquisitionDateTime", "date"), ("PatientTelephoneNumbers", "phone"),
    ("InstitutionName", "place"), ("InstitutionAddress", "place"), ("PatientAddress", "place"),
    ("StationName", "place"), ("PatientID", "id"), ("AccessionNumber", "id"),
    ("MedicalRecordLocator", "id"),
])
def test_phi_kind(keyword, kind):
    from pydicom.datadict import tag_for_keyword

    assert phi_kind(tag_for_keyword(keyword)) == kind


def test_collects_with_one_name_are_merged(compile_text):
    result = compile_text(HEADER + "collect PatientName as phi\ncollect PatientID as phi\n"
                          "collect AccessionNumber as other\nStudyDescription -> clean phi\n")
    assert result.diagnostics == []
    assert result.plan.collects["phi"].tags == {0x00100010: "name", 0x00100020: "id"}
    assert result.plan.collects["other"].tags == {0x00080050: "id"}


def test_shipped_tcia_ruleset_collects_patient_phi_only():
    from deidc.resources import RULESETS_DIR

    plan = compile_or_raise(RULESETS_DIR / "tcia.deid").plan
    tags = plan.collects["phi"].tags
    assert tags[0x00100010] == "name" and tags[0x00100020] == "id" and tags[0x00100030] == "date"
    assert 0x00080090 not in tags  # ReferringPhysicianName: staff, not collected
    actions = {rule.origin.selector: rule.action for rule in plan.rules if isinstance(rule.action, CleanAction)}
    assert actions["StudyDescription"] == CleanAction(
        "phi", 90, ("ssn", "phone", "email", "mrn", "person"), "shift", "date_shift",
        ("address", "person", "phone", "email", "url", "id"))
    assert "*/TextValue" in actions


# ---- DC035: detectors --------------------------------------------------------------------------


def test_detectors_are_compiled_in_rule_order_without_repeats(compile_text):
    result = compile_text(HEADER + COLLECT
                          + "StudyDescription -> clean phi fuzzy 90, detect address, person, address dates remove\n")
    assert result.diagnostics == []
    [action] = clean_actions(result.plan)
    assert action.detectors == ("address", "person") and action.dates == "remove" and action.fuzzy == 90
    assert "clean phi fuzzy 90, dates remove, detect address, person" in format_plan(result.plan)


def test_unknown_detector_gets_a_did_you_mean(compile_text):
    result = compile_text(HEADER + COLLECT + "MedicalAlerts -> clean phi detect adress, phone\n")
    diag = only(result, "DC035")
    assert diag.severity == "error"
    assert diag.message == "unknown detector 'adress'"
    assert diag.hint == "did you mean 'address'?"
    assert at(diag) == ("rules.deid", 5, 28)
    assert clean_actions(result.plan) == []


def test_unknown_detector_without_a_close_match_lists_the_detectors(compile_text):
    diag = only(compile_text(HEADER + COLLECT + "MedicalAlerts -> clean phi detect zzqqxx\n"), "DC035")
    assert diag.hint == "detectors: address, person, phone, email, url, id, date"
