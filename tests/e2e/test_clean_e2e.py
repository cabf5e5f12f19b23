"""`collect` + `clean` end to end: `deidc apply` on a real CT file given PHI in its header, free
text, an SR-style content sequence and a private element; then the shipped TCIA ruleset on it.

Checks the cleaned values, the summary's `cleaned:` lines, the audit notes (kinds and matchers,
never a value) and that no collected PHI string is left anywhere in the output dataset."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidc.resources import RULESETS_DIR
from deidc.runtime.audit import line_changes

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"

BIRTH = dt.date(1962, 3, 14)
NAME, PATIENT_ID, PHONE, EMAIL = "GALLOWAY^REBECCA^HOPE", "MRN00482913", "617-555-0142", "rgalloway@example.org"
# every form of the PHI put in the file that must not survive (compared case-insensitively)
PHI_STRINGS = ("GALLOWAY", "REBECCA", "HOPE", PATIENT_ID, "00482913", "482913", "19620314",
               "03/14/1962", PHONE, "6175550142", "5550142", "rgalloway", "example.org")
ORIGINAL_STUDY_DATE = "20040119"  # CT_small.dcm

RULES = """\
version 1
key = secret("DEIDC_KEY")
day_shift = days(hmac(key, PatientID), -3650..-30)
collect PatientName, PatientID, PatientBirthDate, PatientTelephoneNumbers as phi

PatientName -> empty
PatientID -> pseudonym "P{hmac:8}"
PatientBirthDate, StudyDate -> shift day_shift
PatientTelephoneNumbers -> remove
StudyDescription, AdditionalPatientHistory -> clean phi fuzzy 90, regex phone, email, dates shift day_shift
*/TextValue -> clean phi
(0033,"ACME_NOTES",02) -> clean phi
private * -> remove
"""


@pytest.fixture
def phi_input(tmp_path) -> Path:
    """A folder holding one copy of pydicom's CT_small.dcm with PHI written into it."""
    ds = pydicom.dcmread(TEST_FILES / "CT_small.dcm")
    ds.PatientName = NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = BIRTH.strftime("%Y%m%d")
    ds.PatientTelephoneNumbers = PHONE
    ds.StudyDescription = f"CT CHEST for Rebecca Galloway DOB {BIRTH:%m/%d/%Y}"
    ds.AdditionalPatientHistory = f"Call {PHONE} or email {EMAIL} re: asthma history"
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "TEXT"
    item.TextValue = f"Patient {PATIENT_ID} reviewed, no change"
    ds.ContentSequence = Sequence([item])
    block = ds.private_block(0x0033, "ACME_NOTES", create=True)
    block.add_new(0x01, "LO", "GALLOWAY^REBECCA")
    block.add_new(0x02, "UN", f"seen {PATIENT_ID} ok ".encode("latin-1"))
    folder = tmp_path / "in"
    folder.mkdir()
    ds.save_as(folder / "ct.dcm")
    return folder


def audit_changes(text: str) -> list[dict]:
    return [change for line in text.splitlines() for change in line_changes(line)]


def apply(deidc, rules: Path, source: Path, out: Path):
    run = deidc("apply", rules, source, "-o", out, "--insecure-demo-key", "--workers", "1", "--no-progress")
    assert run.returncode == 0, run.stdout + run.stderr
    [written] = sorted(out.rglob("*.dcm"))
    audit = (out / "audit.jsonl").read_text(encoding="utf-8")
    return run, pydicom.dcmread(written), audit


def summary_count(stdout: str, label: str) -> int:
    match = re.search(re.escape(label) + r"\s*│\s*(\d+)\s*│", stdout)
    assert match, f"{label!r} not in\n{stdout}"
    return int(match.group(1))


def all_texts(ds: Dataset):
    """(tag, text) of every element at any depth; bytes of private and UN elements decoded."""
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                yield from all_texts(item)
        elif isinstance(elem.value, bytes):
            if elem.tag.is_private or elem.VR == "UN":
                yield elem.tag, elem.value.decode("latin-1")
        elif elem.value is not None:
            yield elem.tag, str(elem.value)


def assert_no_phi(ds: Dataset) -> None:
    left = [(str(tag), text) for tag, text in all_texts(ds)
            for phi in PHI_STRINGS if phi.upper() in text.upper()]
    assert left == []


def shifted_birth_date(ds: Dataset) -> dt.date:
    """The birth date moved by the file's offset, read from the shifted StudyDate."""
    days = (dt.datetime.strptime(ds.StudyDate, "%Y%m%d") - dt.datetime.strptime(ORIGINAL_STUDY_DATE, "%Y%m%d")).days
    assert -3650 <= days <= -30
    return BIRTH + dt.timedelta(days=days)


def test_collect_and_clean_with_a_site_rule_file(deidc, phi_input, tmp_path):
    rules = tmp_path / "rules.deid"
    rules.write_text(RULES, encoding="utf-8")
    run, ds, audit = apply(deidc, rules, phi_input, tmp_path / "out")

    # the text keeps its other words; the date moves by the same offset as the DA elements
    birth = shifted_birth_date(ds)
    assert ds.PatientBirthDate == birth.strftime("%Y%m%d")
    assert ds.StudyDescription == f"CT CHEST for DOB {birth:%m/%d/%Y}"
    assert ds.AdditionalPatientHistory == "Call or email re: asthma history"
    assert ds.ContentSequence[0].TextValue == "Patient reviewed, no change"
    assert ds.ContentSequence[0].ValueType == "TEXT"
    notes = ds.private_block(0x0033, "ACME_NOTES")
    assert notes[0x02].value.rstrip(b"\x00 ") == b"seen ok"
    assert 0x00331001 not in ds  # private * -> remove
    assert ds.PatientName == "" and re.fullmatch(r"P\d{8}", ds.PatientID)
    assert "PatientTelephoneNumbers" not in ds
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    assert_no_phi(ds)

    # the summary counts cleaned values per attribute
    assert summary_count(run.stdout, "elements: clean") == 4
    assert summary_count(run.stdout, "cleaned: StudyDescription (0008,1030)") == 1
    assert summary_count(run.stdout, "cleaned: AdditionalPatientHistory (0010,21b0)") == 1
    assert summary_count(run.stdout, "cleaned: TextValue (0040,a160)") == 1
    assert summary_count(run.stdout, "cleaned: (0033,1002)") == 1

    # the audit names kinds and matchers, never a value
    cleaned = {entry["path"]: entry for entry in audit_changes(audit) if entry["action"] == "clean"}
    assert {path: entry["note"] for path, entry in cleaned.items()} == {
        "(0008,1030)": "date:dates shift, name:exact",
        "(0010,21b0)": "email:regex, phone:regex",
        "(0040,a730)[0]/(0040,a160)": "id:exact",
        "(0033,1002)": "id:exact",
    }
    assert cleaned["(0008,1030)"]["rule"].endswith("rules.deid:10")
    assert cleaned["(0040,a730)[0]/(0040,a160)"]["rule"].endswith("rules.deid:11")
    for phi in PHI_STRINGS:
        assert phi.upper() not in audit.upper(), phi


def test_the_tcia_ruleset_cleans_the_same_file(deidc, phi_input, tmp_path):
    run, ds, audit = apply(deidc, RULESETS_DIR / "tcia.deid", phi_input, tmp_path / "out")

    birth = shifted_birth_date(ds)
    assert ds.StudyDate != ORIGINAL_STUDY_DATE
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    assert ds.StudyDescription == f"CT CHEST for DOB {birth:%m/%d/%Y}"  # non-PHI words kept
    assert ds.AdditionalPatientHistory == "Call or email re: asthma history"
    assert ds.ContentSequence[0].TextValue == "Patient reviewed, no change"
    assert re.fullmatch(r"TCIA-\d{20}", ds.PatientID)
    assert ds.PatientName == ds.PatientID
    assert ds.PatientBirthDate == ""
    assert "ACME_NOTES" not in {str(e.value) for e in ds if e.tag.is_private_creator}
    assert_no_phi(ds)

    assert summary_count(run.stdout, "cleaned: StudyDescription (0008,1030)") == 1
    assert summary_count(run.stdout, "cleaned: AdditionalPatientHistory (0010,21b0)") == 1
    assert summary_count(run.stdout, "cleaned: TextValue (0040,a160)") == 1
    notes = {entry["path"]: entry["note"] for entry in audit_changes(audit) if entry["action"] == "clean"}
    # tcia.deid runs the detectors before the PHI words, so a whole name is taken by `person`
    # (an address whole by `address`, with no state left behind)
    assert notes == {"(0008,1030)": "date:dates shift, person:detect",
                     "(0010,21b0)": "email:regex, phone:regex",
                     "(0040,a730)[0]/(0040,a160)": "id:exact"}
    for phi in PHI_STRINGS:
        assert phi.upper() not in audit.upper(), phi
