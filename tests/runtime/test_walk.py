"""DatasetDeidentifier on real files: every action, sequences, private blocks, markers, outcome.

Each test compiles a small rule file, runs `DatasetDeidentifier(plan, keys).deidentify(ds)` on a
pydicom test file (given extra PHI where needed) and checks values before and after, the
recorded changes and the outcome.
"""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pydicom
import pytest
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidc.compiler import compile_or_raise, compile_rules
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.interpret import pseudonyms
from deidc.runtime.interpret.walk import DatasetDeidentifier

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"

# Some tests give elements invalid values on purpose (bad dates, hex in an IS): pydicom warns.
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR:UserWarning")


def tag_path(keyword: str) -> str:
    """The audit path of a top-level element, e.g. (0008,002a)."""
    tag = tag_for_keyword(keyword)
    return f"({tag >> 16:04x},{tag & 0xFFFF:04x})"


def changes_at(outcome, path: str):
    return [c for c in outcome.changes if c.path == path]


def roundtrip(ds: Dataset) -> Dataset:
    """Write as Part 10 and read back: the values a rule produced must be writable."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    buf.seek(0)
    return pydicom.dcmread(buf)


# ---- keep / remove / empty ---------------------------------------------------------------------


def test_keep_wins_over_default_and_records_nothing(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    before = (str(ds.PatientName), ds.PatientID, ds.SOPInstanceUID, ds.Modality)
    deid = deidentifier("""
        default -> remove
        private * -> remove
        PatientName, PatientID, SOPInstanceUID, Modality -> keep
    """)
    outcome = deid.deidentify(ds)
    assert (str(ds.PatientName), ds.PatientID, ds.SOPInstanceUID, ds.Modality) == before
    assert "StudyDate" not in ds and "InstitutionName" not in ds
    assert "OtherPatientIDsSequence" not in ds
    assert not any(t.is_private for t in ds.keys())
    kept_paths = {"(0010,0010)", "(0010,0020)", "(0008,0018)", "(0008,0060)"}
    assert not [c for c in outcome.changes if c.path in kept_paths]
    assert {c.action for c in outcome.changes} == {"remove"}
    assert outcome.quarantine is None


def test_remove_deletes_element_and_records_rule(deidentifier, read_test_file, tmp_path, line_of):
    ds = read_test_file("CT_small.dcm")
    assert "PatientName" in ds and len(ds.OtherPatientIDsSequence) == 2
    deid = deidentifier("""
        PatientName -> remove
        OtherPatientIDsSequence -> remove
    """)
    outcome = deid.deidentify(ds)
    assert "PatientName" not in ds
    assert "OtherPatientIDsSequence" not in ds
    rules = tmp_path / "rules.deid"
    [name_change] = changes_at(outcome, "(0010,0010)")
    assert name_change.action == "remove"
    assert name_change.rule == f"{rules}:{line_of(rules, 'PatientName -> remove')}"
    [seq_change] = changes_at(outcome, "(0010,1002)")
    assert seq_change.rule == f"{rules}:{line_of(rules, 'OtherPatientIDsSequence -> remove')}"
    assert "InstitutionName" in ds  # no rule, kept


def test_empty_keeps_element_with_zero_length_value(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    assert ds.AccessionNumber == ""
    deid = deidentifier("""
        PatientName, PatientSex, AccessionNumber -> empty
        OtherPatientIDsSequence -> empty
    """)
    outcome = deid.deidentify(ds)
    assert "PatientName" in ds and ds["PatientName"].is_empty
    assert "PatientSex" in ds and ds["PatientSex"].is_empty
    assert "OtherPatientIDsSequence" in ds and len(ds.OtherPatientIDsSequence) == 0
    assert [c.action for c in changes_at(outcome, "(0010,0010)")] == ["empty"]
    assert changes_at(outcome, "(0008,0050)") == []  # already empty: no change recorded
    back = roundtrip(ds)
    assert back["PatientName"].is_empty and len(back.OtherPatientIDsSequence) == 0


# ---- dummy ---------------------------------------------------------------------------------


def test_dummy_value_per_vr(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    ds.PatientAge = "045Y"
    ds.AcquisitionDateTime = "20040119072730"
    ds.add_new(0x00420011, "OB", b"\x01\x02\x03\x04")  # EncapsulatedDocument
    deid = deidentifier("""
        InstitutionName, StationName, PatientSex, PatientName, StudyDate, StudyTime -> dummy
        AcquisitionDateTime, PatientWeight, InstanceNumber, Rows, PatientAge -> dummy
        FrameOfReferenceUID, EncapsulatedDocument -> dummy
    """)
    outcome = deid.deidentify(ds)
    assert ds.InstitutionName == "ANONYMIZED"  # LO
    assert ds.StationName == "ANONYMIZED"  # SH
    assert ds.PatientSex == "ANONYMIZED"  # CS
    assert str(ds.PatientName) == "ANONYMIZED"  # PN
    assert ds.StudyDate == "19000101"  # DA
    assert ds.StudyTime == "000000"  # TM
    assert ds.AcquisitionDateTime == "19000101000000"  # DT
    assert ds.PatientAge == "000Y"  # AS
    assert float(ds.PatientWeight) == 0  # DS
    assert int(ds.InstanceNumber) == 0  # IS
    assert ds.Rows == 0  # US
    assert ds["FrameOfReferenceUID"].is_empty  # UI: no dummy, emptied
    assert ds["EncapsulatedDocument"].is_empty  # OB: emptied
    assert {c.action for c in outcome.changes} == {"dummy"}
    back = roundtrip(ds)
    assert back.InstitutionName == "ANONYMIZED" and back.StudyDate == "19000101"


def test_dummy_on_a_sequence_keeps_its_items_for_their_own_rules(deidentifier, read_test_file):
    # PS3.15 D is "a non-zero length value": an emptied sequence breaks a Type 1 attribute, so
    # the items stay and the rules decide their elements, as for a kept sequence.
    ds = read_test_file("CT_small.dcm")
    ds.ReferencedStudySequence = Sequence()  # no items: stays as it is
    deid = deidentifier("""
        OtherPatientIDsSequence, ReferencedStudySequence -> dummy
        PatientID -> dummy
    """)
    outcome = deid.deidentify(ds)
    items = ds.OtherPatientIDsSequence
    assert len(items) == 2
    assert [item.PatientID for item in items] == ["ANONYMIZED", "ANONYMIZED"]  # their own rule
    assert [item.TypeOfPatientID for item in items] == ["TEXT", "TEXT"]  # no rule: kept
    assert len(ds.ReferencedStudySequence) == 0
    seq = tag_path("OtherPatientIDsSequence")
    assert changes_at(outcome, seq) == []  # the sequence itself is not changed
    assert changes_at(outcome, tag_path("ReferencedStudySequence")) == []
    assert [c.action for c in changes_at(outcome, f"{seq}[0]/(0010,0020)")] == ["dummy"]
    assert [c.action for c in changes_at(outcome, f"{seq}[1]/(0010,0020)")] == ["dummy"]
    back = roundtrip(ds)
    assert len(back.OtherPatientIDsSequence) == 2 and back.OtherPatientIDsSequence[1].PatientID == "ANONYMIZED"


def test_dummy_on_a_sequence_with_a_path_rule_below_dummies_every_value(deidentifier, read_test_file):
    # how the shipped profiles write a D sequence whose items are the identifier itself
    ds = read_test_file("CT_small.dcm")
    deid = deidentifier("""
        OtherPatientIDsSequence -> dummy
        */OtherPatientIDsSequence/* -> dummy
        PatientID -> remove
    """)
    deid.deidentify(ds)
    assert [(item.PatientID, item.TypeOfPatientID) for item in ds.OtherPatientIDsSequence] == \
        [("ANONYMIZED", "ANONYMIZED")] * 2  # the path rule beats the keyword rule
    assert "PatientID" not in ds


# ---- replace ---------------------------------------------------------------------------------


def test_replace_constant_text_and_numbers(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    deid = deidentifier("""
        PatientName -> replace "ANON^PATIENT"
        InstanceNumber -> replace 7
        PatientWeight -> replace 70
        Modality -> replace "CT"
    """)
    outcome = deid.deidentify(ds)
    assert str(ds.PatientName) == "ANON^PATIENT"
    assert int(ds.InstanceNumber) == 7
    assert float(ds.PatientWeight) == 70.0
    assert [c.action for c in changes_at(outcome, "(0010,0010)")] == ["replace"]
    assert changes_at(outcome, "(0008,0060)") == []  # same value: no change recorded
    back = roundtrip(ds)
    assert int(back.InstanceNumber) == 7


def test_replace_from_uses_the_new_value_of_the_other_attribute(deidentifier, read_test_file, key):
    ds = read_test_file("CT_small.dcm")
    # The copy rule is written before the rule that changes its source, on purpose.
    deid = deidentifier("""
        PatientName -> replace PatientID
        PatientID -> pseudonym "P{hmac:6}"
    """)
    outcome = deid.deidentify(ds)
    expected = pseudonyms.pseudonym(key, "1CT1", "P{hmac:6}")
    assert ds.PatientID == expected
    assert str(ds.PatientName) == expected
    assert "CompressedSamples" not in str(ds.PatientName)
    assert [c.action for c in changes_at(outcome, "(0010,0010)")] == ["replace-from"]


def test_replace_from_a_removed_attribute_empties_the_target(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    ds.OtherPatientNames = "ALIAS^SECRET"
    deid = deidentifier("""
        StudyID -> remove
        OtherPatientNames -> replace StudyID
    """)
    deid.deidentify(ds)
    assert "StudyID" not in ds
    assert "OtherPatientNames" in ds and ds["OtherPatientNames"].is_empty


def test_replace_from_change_names_its_rule(deidentifier, read_test_file, tmp_path, line_of):
    ds = read_test_file("CT_small.dcm")
    deid = deidentifier("""
        PatientID -> pseudonym "P{hmac:6}"
        PatientName -> replace PatientID
    """)
    outcome = deid.deidentify(ds)
    rules = tmp_path / "rules.deid"
    [change] = changes_at(outcome, "(0010,0010)")
    assert change.rule == f"{rules}:{line_of(rules, 'PatientName -> replace PatientID')}"


def test_replace_from_inside_a_sequence_is_audited_with_its_item_path(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    deid = deidentifier("""
        StudyID -> replace "S1"
        PatientID -> replace StudyID
    """)
    outcome = deid.deidentify(ds)
    assert ds.PatientID == "S1"
    assert [item.PatientID for item in ds.OtherPatientIDsSequence] == ["S1", "S1"]
    paths = sorted(c.path for c in outcome.changes if c.action == "replace-from")
    assert paths == ["(0010,0020)", "(0010,1002)[0]/(0010,0020)", "(0010,1002)[1]/(0010,0020)"]


# ---- hash and pseudonym ------------------------------------------------------------------------


def test_hash_is_keyed_upper_hex_limited_by_vr(deidentifier, read_test_file, key):
    ds = read_test_file("CT_small.dcm")
    ds.OtherPatientIDs = ["MRN-1", "MRN-2"]
    deid = deidentifier("""
        PatientID, StationName, OtherPatientIDs, AccessionNumber -> hash
    """)
    outcome = deid.deidentify(ds)
    assert ds.PatientID == pseudonyms.keyed_hash(key, "1CT1", 64)  # LO: 64 characters
    assert re.fullmatch(r"[0-9A-F]{64}", ds.PatientID)
    assert ds.StationName == pseudonyms.keyed_hash(key, "CT01_OC0", 16)  # SH: 16 characters
    assert list(ds.OtherPatientIDs) == [pseudonyms.keyed_hash(key, "MRN-1", 64),
                                        pseudonyms.keyed_hash(key, "MRN-2", 64)]
    assert ds.AccessionNumber == "" and changes_at(outcome, "(0008,0050)") == []
    assert ds.PatientID != pseudonyms.keyed_hash(b"some-other-key-1234567", "1CT1", 64)
    roundtrip(ds)


def test_hash_on_a_numeric_string_is_refused_or_fails_closed(write_rules, read_test_file, key):
    path = write_rules("InstanceNumber -> hash\n")
    result = compile_rules(path)
    if result.errors:  # refusing it at compile time is a fine answer
        return
    ds = read_test_file("CT_small.dcm")
    outcome = DatasetDeidentifier(result.plan, resolve_keys(result.plan)).deidentify(ds)
    assert ds.get("InstanceNumber") is None or ds["InstanceNumber"].is_empty
    assert changes_at(outcome, "(0020,0013)")[0].note


def test_pseudonym_template_and_vr_length(deidentifier, read_test_file, key, monkeypatch):
    monkeypatch.setenv("DEIDC_KEY2", "second-secret-for-pseudonyms-42")
    ds = read_test_file("CT_small.dcm")
    deid = deidentifier("""
        key2 = secret("DEIDC_KEY2")
        PatientID -> pseudonym "SUBJ-{hmac:6}"
        StationName -> pseudonym "STATION-{hex:20}"
        StudyID -> pseudonym "S{hex:8}" using key2
    """)
    outcome = deid.deidentify(ds)
    assert re.fullmatch(r"SUBJ-[0-9]{6}", ds.PatientID)
    assert ds.PatientID == pseudonyms.pseudonym(key, "1CT1", "SUBJ-{hmac:6}")
    assert ds.StationName == pseudonyms.pseudonym(key, "CT01_OC0", "STATION-{hex:20}")[:16]  # SH
    assert len(ds.StationName) == 16
    assert ds.StudyID == pseudonyms.pseudonym(b"second-secret-for-pseudonyms-42", "1CT1", "S{hex:8}")
    assert ds.StudyID != pseudonyms.pseudonym(key, "1CT1", "S{hex:8}")
    # the nested Other Patient IDs get their own pseudonyms, by value
    assert [i.PatientID for i in ds.OtherPatientIDsSequence] == [
        pseudonyms.pseudonym(key, "ABCD1234", "SUBJ-{hmac:6}"),
        pseudonyms.pseudonym(key, "1234ABCD", "SUBJ-{hmac:6}")]
    assert outcome.patient_ids == ("1CT1", ds.PatientID)


# ---- lookup ----------------------------------------------------------------------------------


@pytest.fixture
def lookup_table(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("id_old,id_new\n1CT1,SUBJ-001\n4MR1,SUBJ-002\nABCD1234,SUBJ-001-B\n"
                    "1234ABCD,SUBJ-001-C\n", encoding="utf-8")
    return path


def test_lookup_hit(deidentifier, read_test_file, lookup_table):
    ds = read_test_file("CT_small.dcm")
    deid = deidentifier('PatientID -> lookup "table.csv" else quarantine "patient not in table"\n')
    outcome = deid.deidentify(ds)
    assert outcome.quarantine is None
    assert ds.PatientID == "SUBJ-001"
    assert outcome.patient_ids == ("1CT1", "SUBJ-001")
    # PatientID selects every PatientID, the nested Other Patient IDs too
    assert [i.PatientID for i in ds.OtherPatientIDsSequence] == ["SUBJ-001-B", "SUBJ-001-C"]
    [change] = changes_at(outcome, "(0010,0020)")
    assert change.action == "lookup" and change.note is None


def test_lookup_miss_with_quarantine_fallback_quarantines(deidentifier, read_test_file,
                                                          lookup_table):
    ds = read_test_file("CT_small.dcm")
    ds.PatientID = "NOT-IN-TABLE"
    deid = deidentifier('PatientID -> lookup "table.csv" else quarantine "patient not in table"\n')
    outcome = deid.deidentify(ds)
    assert outcome.quarantine == "patient not in table"
    assert outcome.patient_ids is None and outcome.uid_map == {}


def test_lookup_miss_with_empty_fallback(deidentifier, read_test_file, lookup_table):
    ds = read_test_file("MR_small.dcm")
    ds.PatientID = "NOT-IN-TABLE"
    deid = deidentifier('PatientID -> lookup "table.csv" else empty\n')
    outcome = deid.deidentify(ds)
    assert outcome.quarantine is None
    assert ds["PatientID"].is_empty
    [change] = changes_at(outcome, "(0010,0020)")
    assert change.action == "lookup"
    assert change.note == "value not in lookup table; fallback applied"


# ---- date shift --------------------------------------------------------------------------------

SHIFT_RULES = """
    markers "shift test"
    day_shift = days(hmac(key, PatientID), -3650..-30)
    sec_shift = seconds(hmac(key, PatientID), -86399..-1)
    PatientID -> pseudonym "P{hmac:6}"
    StudyDate, ContentDate, CalibrationDate -> shift day_shift
    AcquisitionDateTime, ReferencedDateTime -> shift sec_shift
    StudyTime, CalibrationTime -> shift sec_shift
"""


def test_date_shift_keeps_format_precision_and_multiple_values(deidentifier, read_test_file, key):
    ds = read_test_file("CT_small.dcm")
    ds.ContentDate = "1997.04.30"  # legacy DA format
    ds.CalibrationDate = ["20040119", "19970430"]
    ds.AcquisitionDateTime = "20040119072730.123456+0100"
    ds.ReferencedDateTime = ["20040119072730", "2004011907"]
    ds.CalibrationTime = ["072730", "11:29:36.25"]
    deid = deidentifier(SHIFT_RULES)
    outcome = deid.deidentify(ds)

    # keyed on the ORIGINAL PatientID, although PatientID itself is pseudonymised
    days = pseudonyms.shift_offset(key, "1CT1", -3650, -30)
    secs = pseudonyms.shift_offset(key, "1CT1", -86399, -1)
    assert ds.PatientID != "1CT1"

    def da(y, m, d, fmt="%Y%m%d"):
        return (date(y, m, d) + timedelta(days=days)).strftime(fmt)

    def dt(*parts):
        return datetime(*parts) + timedelta(seconds=secs)

    def tm(h, m, s):
        total = (h * 3600 + m * 60 + s + secs) % 86400
        return total // 3600, total // 60 % 60, total % 60

    assert ds.StudyDate == da(2004, 1, 19)
    assert ds.ContentDate == da(1997, 4, 30, "%Y.%m.%d")
    assert list(ds.CalibrationDate) == [da(2004, 1, 19), da(1997, 4, 30)]
    assert ds.AcquisitionDateTime == dt(2004, 1, 19, 7, 27, 30).strftime("%Y%m%d%H%M%S") + ".123456+0100"
    assert list(ds.ReferencedDateTime) == [dt(2004, 1, 19, 7, 27, 30).strftime("%Y%m%d%H%M%S"),
                                           dt(2004, 1, 19, 7).strftime("%Y%m%d%H")]
    h, m, s = tm(7, 27, 30)
    assert ds.StudyTime == f"{h:02d}{m:02d}{s:02d}"
    h2, m2, s2 = tm(11, 29, 36)
    assert list(ds.CalibrationTime) == [f"{h:02d}{m:02d}{s:02d}", f"{h2:02d}:{m2:02d}:{s2:02d}.25"]
    shifted = {c.path for c in outcome.changes if c.action == "shift"}
    assert shifted == {tag_path(k) for k in (
        "StudyDate", "ContentDate", "CalibrationDate", "AcquisitionDateTime", "ReferencedDateTime",
        "StudyTime", "CalibrationTime")}
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    roundtrip(ds)


def test_unparseable_dates_are_emptied_with_a_note(deidentifier, read_test_file, key):
    ds = read_test_file("CT_small.dcm")
    ds.StudyDate = "2004-01-19"  # wrong shape
    ds.ContentDate = "20230230"  # impossible date
    ds.CalibrationDate = ["20040119", "not a date"]  # one bad value spoils the element
    ds.StudyTime = "256161"
    deid = deidentifier(SHIFT_RULES)
    outcome = deid.deidentify(ds)
    for keyword in ("StudyDate", "ContentDate", "CalibrationDate", "StudyTime"):
        assert keyword in ds and ds[keyword].is_empty, keyword
        [change] = changes_at(outcome, tag_path(keyword))
        assert change.action == "shift"
        assert change.note and "emptied" in change.note, change
    assert changes_at(outcome, "(0008,0020)")[0].note == "invalid DA value (expected YYYYMMDD); emptied"
    assert "2004-01-19" not in str(outcome.changes)  # notes go into the audit: never the value
    roundtrip(ds)


def test_no_shift_no_longitudinal_marker(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    deid = deidentifier(SHIFT_RULES)
    del ds.StudyDate, ds.StudyTime, ds.ContentDate
    deid.deidentify(ds)
    assert ds.PatientIdentityRemoved == "YES"
    assert "LongitudinalTemporalInformationModified" not in ds


# ---- UIDs ------------------------------------------------------------------------------------


def _with_references(ds: Dataset) -> Dataset:
    """Adds ReferencedSeriesSequence[0]/ReferencedInstanceSequence[0..1] and a multi-valued UI."""
    inst_other = Dataset()
    inst_other.ReferencedSOPClassUID = CT_IMAGE
    inst_other.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.9999.77.1"
    inst_self = Dataset()
    inst_self.ReferencedSOPClassUID = CT_IMAGE
    inst_self.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    series = Dataset()
    series.SeriesInstanceUID = ds.SeriesInstanceUID
    series.ReferencedInstanceSequence = Sequence([inst_other, inst_self])
    ds.ReferencedSeriesSequence = Sequence([series])
    ds.FailedSOPInstanceUIDList = ["1.2.826.0.1.3680043.9999.77.1", "1.2.826.0.1.3680043.9999.77.2"]
    return ds


UID_RULES = """
    SOPInstanceUID, StudyInstanceUID, SeriesInstanceUID, FrameOfReferenceUID -> remap uid
    ReferencedSOPInstanceUID, FailedSOPInstanceUIDList -> remap uid
"""


def test_remap_uid_everywhere_including_nested_and_multivalued(deidentifier, read_test_file, key):
    ds = _with_references(read_test_file("CT_small.dcm"))
    old_sop, old_study, old_series = ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID
    old_for = ds.FrameOfReferenceUID
    outcome = deidentifier(UID_RULES).deidentify(ds)

    new = {old: pseudonyms.remap_uid(key, old) for old in
           (old_sop, old_study, old_series, old_for, "1.2.826.0.1.3680043.9999.77.1",
            "1.2.826.0.1.3680043.9999.77.2")}
    assert ds.SOPInstanceUID == new[old_sop]
    assert ds.StudyInstanceUID == new[old_study]
    assert ds.SeriesInstanceUID == new[old_series]
    assert ds.FrameOfReferenceUID == new[old_for]
    assert all(u.startswith("2.25.") and len(u) <= 64 for u in new.values())

    series = ds.ReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID == ds.SeriesInstanceUID  # same UID, same new value
    other, self_ref = series.ReferencedInstanceSequence
    assert other.ReferencedSOPInstanceUID == new["1.2.826.0.1.3680043.9999.77.1"]
    assert self_ref.ReferencedSOPInstanceUID == ds.SOPInstanceUID  # reference follows the file
    assert other.ReferencedSOPClassUID == CT_IMAGE  # not selected: untouched
    assert list(ds.FailedSOPInstanceUIDList) == [new["1.2.826.0.1.3680043.9999.77.1"],
                                                 new["1.2.826.0.1.3680043.9999.77.2"]]

    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert outcome.uid_map == new
    nested = "(0008,1115)[0]/(0008,114a)[0]/(0008,1155)"
    assert [c.action for c in changes_at(outcome, nested)] == ["remap-uid"]
    back = roundtrip(ds)
    assert back.ReferencedSeriesSequence[0].ReferencedInstanceSequence[1].ReferencedSOPInstanceUID \
        == back.SOPInstanceUID


def test_remap_uid_with_root(deidentifier, read_test_file, key):
    ds = read_test_file("MR_small.dcm")
    old = ds.SOPInstanceUID
    outcome = deidentifier('SOPInstanceUID -> remap uid root "1.2.826.0.1.3680043.10.543"\n') \
        .deidentify(ds)
    assert ds.SOPInstanceUID.startswith("1.2.826.0.1.3680043.10.543.")
    assert len(ds.SOPInstanceUID) <= 64
    assert ds.SOPInstanceUID == pseudonyms.remap_uid(key, old, "1.2.826.0.1.3680043.10.543")
    assert outcome.uid_map[old] == ds.SOPInstanceUID
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


def test_outcome_maps_study_series_sop_even_when_kept(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    sop, study, series = ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID
    outcome = deidentifier("PatientName -> empty\n").deidentify(ds)
    assert outcome.uid_map == {sop: sop, study: study, series: series}
    assert outcome.patient_ids == ("1CT1", "1CT1")
    assert ds.file_meta.MediaStorageSOPInstanceUID == sop


def test_patient_ids_when_patient_id_removed(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    outcome = deidentifier("PatientID -> remove\n").deidentify(ds)
    assert "PatientID" not in ds
    assert outcome.patient_ids == ("1CT1", "")


# ---- quarantine ------------------------------------------------------------------------------


def test_quarantine_action_when_element_present(deidentifier, read_test_file):
    deid = deidentifier('BurnedInAnnotation -> quarantine "burned-in annotation present"\n')
    flagged = read_test_file("CT_small.dcm")
    flagged.BurnedInAnnotation = "YES"
    outcome = deid.deidentify(flagged)
    assert outcome.quarantine == "burned-in annotation present"
    assert outcome.uid_map == {} and outcome.patient_ids is None

    clean = read_test_file("MR_small.dcm")
    assert "BurnedInAnnotation" not in clean
    assert deid.deidentify(clean).quarantine is None


def test_file_level_when_quarantine(deidentifier, read_test_file, tmp_path, line_of):
    deid = deidentifier("""
        PatientName -> empty
        when BurnedInAnnotation = YES or Modality = "MR" {
            quarantine "burned-in text or MR"
        }
    """)
    rules = tmp_path / "rules.deid"
    where = f"{rules}:{line_of(rules, 'quarantine')}"

    flagged = read_test_file("CT_small.dcm")
    flagged.BurnedInAnnotation = "yes "  # case-insensitive, padding stripped
    outcome = deid.deidentify(flagged)
    assert outcome.quarantine == f"burned-in text or MR (rule {where})"
    assert str(flagged.PatientName) == "CompressedSamples^CT1"  # nothing was changed
    assert outcome.changes == []

    mr = read_test_file("MR_small.dcm")
    assert deid.deidentify(mr).quarantine == f"burned-in text or MR (rule {where})"

    ok = read_test_file("CT_small.dcm")
    ok.BurnedInAnnotation = "NO"
    outcome = deid.deidentify(ok)
    assert outcome.quarantine is None
    assert ok["PatientName"].is_empty


# ---- sequences and paths -----------------------------------------------------------------------


def test_path_with_item_index(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    outcome = deidentifier("OtherPatientIDsSequence[0]/PatientID -> replace \"FIRST\"\n").deidentify(ds)
    assert [i.PatientID for i in ds.OtherPatientIDsSequence] == ["FIRST", "1234ABCD"]
    assert ds.PatientID == "1CT1"
    assert [c.path for c in outcome.changes] == ["(0010,1002)[0]/(0010,0020)"]


def test_path_beats_tag_rule(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    deidentifier("""
        OtherPatientIDsSequence[1]/PatientID -> keep
        PatientID -> remove
    """).deidentify(ds)
    assert "PatientID" not in ds
    first, second = ds.OtherPatientIDsSequence
    assert "PatientID" not in first
    assert second.PatientID == "1234ABCD"


def test_leading_any_depth_matches_top_level_and_nested(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    deidentifier('*/PatientID -> replace "X"\n').deidentify(ds)
    assert ds.PatientID == "X"
    assert [i.PatientID for i in ds.OtherPatientIDsSequence] == ["X", "X"]


def test_trailing_any_depth_selects_everything_below(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    deidentifier("OtherPatientIDsSequence/* -> remove\n").deidentify(ds)
    assert ds.PatientID == "1CT1"
    assert len(ds.OtherPatientIDsSequence) == 2
    assert all(len(item) == 0 for item in ds.OtherPatientIDsSequence)


def test_path_scoped_to_one_sequence_at_any_depth(deidentifier, read_test_file):
    ds = _with_references(read_test_file("CT_small.dcm"))
    # three levels: ReferencedSeriesSequence / ReferencedInstanceSequence / PurposeOf... / CodeMeaning
    for inst in ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence:
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator = "121311", "DCM"
        code.CodeMeaning = "Dr. Smith's localizer"
        inst.PurposeOfReferenceCodeSequence = Sequence([code])
    region = Dataset()
    region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning = "T-A0100", "SRT", "Brain"
    ds.AnatomicRegionSequence = Sequence([region])

    outcome = deidentifier("ReferencedSeriesSequence/*/CodeMeaning -> replace \"REDACTED\"\n") \
        .deidentify(ds)
    for inst in ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence:
        assert inst.PurposeOfReferenceCodeSequence[0].CodeMeaning == "REDACTED"
    assert ds.AnatomicRegionSequence[0].CodeMeaning == "Brain"
    assert sorted(c.path for c in outcome.changes) == [
        f"(0008,1115)[0]/(0008,114a)[{i}]/(0040,a170)[0]/(0008,0104)" for i in (0, 1)]


def test_except_path_takes_a_sequence_out_of_a_rule(deidentifier, read_test_file, key):
    ds = _with_references(read_test_file("CT_small.dcm"))
    ds.SourceImageSequence = [Dataset()]
    ds.SourceImageSequence[0].ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.9999.88.1"
    deidentifier("""
        ReferencedSOPInstanceUID except SourceImageSequence/ReferencedSOPInstanceUID -> remap uid
    """).deidentify(ds)
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == "1.2.826.0.1.3680043.9999.88.1"
    other = ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert other.ReferencedSOPInstanceUID == pseudonyms.remap_uid(key, "1.2.826.0.1.3680043.9999.77.1")


def test_except_path_with_item_index_excludes_only_that_item(deidentifier, read_test_file, key):
    """Regression: an item index in an `except` path must key the dispatch memo on item indexes
    (it used to be keyed without them, so item [0]'s decision was reused for item [1])."""
    ds = read_test_file("CT_small.dcm")
    items = []
    for uid in ("1.2.826.0.1.3680043.9999.5.1", "1.2.826.0.1.3680043.9999.5.2"):
        item = Dataset()
        item.ReferencedSOPClassUID = CT_IMAGE
        item.ReferencedSOPInstanceUID = uid
        items.append(item)
    ds.ReferencedImageSequence = Sequence(items)
    deidentifier("""
        ReferencedSOPInstanceUID except ReferencedImageSequence[0]/ReferencedSOPInstanceUID -> remap uid
    """).deidentify(ds)
    first, second = ds.ReferencedImageSequence
    assert first.ReferencedSOPInstanceUID == "1.2.826.0.1.3680043.9999.5.1"
    assert second.ReferencedSOPInstanceUID == pseudonyms.remap_uid(key, "1.2.826.0.1.3680043.9999.5.2")


# ---- private blocks ----------------------------------------------------------------------------

ACME = "ACME Imaging 1.0"


def _acme_dataset(read_test_file, other_block_first: bool) -> Dataset:
    ds = read_test_file("CT_small.dcm")
    if other_block_first:
        other = ds.private_block(0x0031, "OTHER VENDOR", create=True)
        other.add_new(0x01, "LO", "other vendor's patient name")
    block = ds.private_block(0x0031, ACME, create=True)
    block.add_new(0x01, "LO", "Jane Doe")
    block.add_new(0x02, "LO", "scanner-42")
    block.add_new(0x03, "DS", "1.5")
    return ds


def test_private_block_matched_by_creator_in_any_slot(deidentifier, read_test_file):
    in_slot_10 = _acme_dataset(read_test_file, other_block_first=False)
    in_slot_11 = _acme_dataset(read_test_file, other_block_first=True)
    assert in_slot_10[0x00310010].value == ACME and in_slot_11[0x00310011].value == ACME

    deid = deidentifier("""
        private "acme imaging 1.0" { 01 -> remove; 02 -> keep; * -> empty }
        private * -> remove
    """)
    results = []
    for ds, slot in ((in_slot_10, 0x10), (in_slot_11, 0x11)):
        outcome = deid.deidentify(ds)
        base = 0x00310000 | (slot << 8)
        assert base | 0x01 not in ds  # 01 -> remove
        assert ds[base | 0x02].value == "scanner-42"  # 02 -> keep
        assert ds[base | 0x03].is_empty  # * -> empty
        assert ds[0x00310000 | slot].value == ACME  # creator kept: its block still holds data
        results.append(sorted((t & 0xFF, ds[t].value) for t in ds.keys()
                              if t.group == 0x0031 and t.element >= 0x1000))
        # every other private element and creator is gone
        assert [t for t in ds.keys() if t.is_private] == sorted(
            [0x00310000 | slot, base | 0x02, base | 0x03])
        assert {c.action for c in outcome.changes if c.path.startswith("(0031,")} == {"remove", "empty"}
    assert results[0] == results[1]
    assert 0x00310010 not in in_slot_11  # OTHER VENDOR's creator went with its only element


def test_private_element_selector_with_group_in_any_slot(deidentifier, read_test_file):
    deid = deidentifier(f'(0031,"{ACME}",01) -> replace "REDACTED"\n')
    for other_first, slot in ((False, 0x10), (True, 0x11)):
        ds = _acme_dataset(read_test_file, other_first)
        deid.deidentify(ds)
        assert ds[0x00310001 | (slot << 8)].value == "REDACTED"
        assert ds[0x00310002 | (slot << 8)].value == "scanner-42"


def test_private_creators_follow_their_blocks(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    item = Dataset()  # a private block inside a sequence item, with its own creator
    item.PatientID = "NESTED"
    item.private_block(0x0033, "NESTED CREATOR", create=True).add_new(0x01, "LO", "secret")
    ds.OtherPatientIDsSequence.append(item)
    deidentifier("""
        private "GEMS_IDEN_01" { 02 -> keep }
        private * -> remove
    """).deidentify(ds)
    assert ds[0x00090010].value == "GEMS_IDEN_01"
    assert ds[0x00091002].value == "CT01"
    assert 0x00091001 not in ds
    for creator in (0x00110010, 0x00190010):
        assert creator not in ds
    assert [t for t in ds.keys() if t.is_private] == [0x00090010, 0x00091002]
    nested = ds.OtherPatientIDsSequence[2]
    assert [t for t in nested.keys() if t.is_private] == []
    assert nested.PatientID == "NESTED"


def test_private_sequences_are_walked(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    block = ds.private_block(0x0031, ACME, create=True)
    inner = Dataset()
    inner.PatientName = "Nested^Secret"
    inner.StudyDate = "20040119"
    block.add_new(0x10, "SQ", Sequence([inner]))
    deidentifier(f"""
        private "{ACME}" {{ 10 -> keep }}
        PatientName -> empty
        StudyDate -> remove
    """).deidentify(ds)
    kept = ds[0x00311010].value[0]
    assert kept["PatientName"].is_empty
    assert "StudyDate" not in kept


# ---- group lengths ---------------------------------------------------------------------------


def test_group_lengths_are_dropped_everywhere(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    ds.add_new(0x00080000, "UL", 1234)
    ds.add_new(0x00100000, "UL", 99)
    ds.add_new(0x00090000, "UL", 10)  # private group length
    ds.OtherPatientIDsSequence[0].add_new(0x00100000, "UL", 20)
    deidentifier("default -> keep\n").deidentify(ds)
    for tag in (0x00080000, 0x00100000, 0x00090000):
        assert tag not in ds
    assert 0x00100000 not in ds.OtherPatientIDsSequence[0]
    assert ds.OtherPatientIDsSequence[0].PatientID == "ABCD1234"
    assert ds[0x00090010].value == "GEMS_IDEN_01"


# ---- unknown standard elements and the file meta ---------------------------------------------

# (0010,0010) and (0008,1155) with a bit flipped: standard groups, not in the dictionary
FLIPPED_NAME, FLIPPED_UID = 0x00100011, 0x00081157


def test_unknown_standard_elements_fall_to_unknown_default_at_any_depth(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    ds.add_new(FLIPPED_NAME, "PN", "GALLOWAY^JOHN")
    ds.OtherPatientIDsSequence[0].add_new(FLIPPED_UID, "UI", "1.2.3.4")
    ds.add_new(0x60003000, "OW", b"\x00\x01")  # overlay data: a repeating-group tag, known
    outcome = deidentifier("""
        default -> keep
        vr PN -> replace "VR RULE"
        unknown * -> remove
    """).deidentify(ds)
    assert FLIPPED_NAME not in ds and FLIPPED_UID not in ds.OtherPatientIDsSequence[0]
    assert ds.PatientName == "VR RULE" and 0x60003000 in ds and ds.OtherPatientIDsSequence[0].PatientID == "ABCD1234"
    removed = {c.path: c.rule for c in outcome.changes if c.action == "remove"}
    assert set(removed) == {"(0010,0011)", "(0010,1002)[0]/(0008,1157)"}
    assert all(rule.endswith(":5") for rule in removed.values())


@pytest.mark.filterwarnings("ignore:VR lookup failed:UserWarning")  # pydicom: an unknown tag in implicit VR is UN
def test_unknown_elements_of_an_implicit_vr_file_are_decided_too(deidentifier, read_test_file):
    ds = read_test_file("rtplan.dcm")  # implicit VR: an unknown tag reads as UN
    assert ds.file_meta.TransferSyntaxUID.is_implicit_VR
    buf = io.BytesIO()
    ds.add_new(FLIPPED_NAME, "PN", "GALLOWAY^JOHN")
    ds.save_as(buf, enforce_file_format=True)
    ds = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    assert ds[FLIPPED_NAME].VR == "UN"
    deidentifier("default -> keep\nunknown * -> remove\n").deidentify(ds)
    assert FLIPPED_NAME not in ds


def test_without_unknown_default_unknown_elements_fall_to_vr_rules_and_default(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    ds.add_new(FLIPPED_NAME, "PN", "GALLOWAY^JOHN")
    ds.add_new(FLIPPED_UID, "UI", "1.2.3.4")
    deidentifier('default -> remove\nvr PN -> replace "X"\n').deidentify(ds)
    assert ds[FLIPPED_NAME].value == "X" and FLIPPED_UID not in ds


def test_rules_decide_file_meta_elements(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    meta = ds.file_meta
    meta.SendingApplicationEntityTitle = "SENDER"
    meta.PrivateInformationCreatorUID = "1.2.826.0.1.3680043.8.498.4711"
    meta.PrivateInformation = b"GALLOWAY"
    owned = {t: meta[t].value for t in (0x00020000, 0x00020001, 0x00020002, 0x00020010, 0x00020012, 0x00020013)}
    old_instance = ds.SOPInstanceUID
    outcome = deidentifier("""
        SourceApplicationEntityTitle -> replace "X"
        PrivateInformation -> remove
        vr UI -> remap uid
        default -> keep
    """).deidentify(ds)
    assert meta.SourceApplicationEntityTitle == "X"  # CT_small's own CLUNIE1
    assert meta.SendingApplicationEntityTitle == "SENDER"
    assert "PrivateInformation" not in meta
    assert meta.PrivateInformationCreatorUID.startswith("2.25.")
    assert {t: meta[t].value for t in owned} == owned  # `vr UI` does not reach what deidc writes
    assert ds.SOPInstanceUID != old_instance and meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    paths = {c.path: c.action for c in outcome.changes if c.path.startswith("(0002,")}
    assert paths == {"(0002,0016)": "replace", "(0002,0102)": "remove", "(0002,0100)": "remap-uid"}
    back = roundtrip(ds)
    assert back.file_meta.SourceApplicationEntityTitle == "X" and "PrivateInformation" not in back.file_meta


def test_default_and_unknown_default_leave_what_deidc_writes_in_the_file_meta(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    ds.file_meta.add_new(0x00020005, "UN", b"??")  # not in the dictionary
    deidentifier("default -> remove\nunknown * -> remove\nSOPInstanceUID, SOPClassUID, Modality, "
                 "StudyInstanceUID, SeriesInstanceUID -> keep\n").deidentify(ds)
    assert sorted(f"{t:08X}" for t in ds.file_meta._dict) == [
        "00020000", "00020001", "00020002", "00020003", "00020010", "00020012", "00020013"]
    assert roundtrip(ds).file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID


# ---- markers ---------------------------------------------------------------------------------


def test_markers(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    deid = deidentifier("""
        markers "deidc test method" codes 113100, 113107
        day_shift = days(hmac(key, PatientID), -100..-10)
        StudyDate -> shift day_shift
    """)
    deid.deidentify(ds)
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.DeidentificationMethod == "deidc test method"
    codes = [(i.CodeValue, i.CodingSchemeDesignator, i.CodeMeaning)
             for i in ds.DeidentificationMethodCodeSequence]
    assert codes == [
        ("113100", "DCM", "Basic Application Confidentiality Profile"),
        ("113107", "DCM", "Retain Longitudinal Temporal Information Modified Dates Option")]
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    back = roundtrip(ds)
    assert back.PatientIdentityRemoved == "YES"


def test_no_markers_statement_no_markers(deidentifier, read_test_file):
    ds = read_test_file("CT_small.dcm")
    deidentifier("PatientName -> empty\n").deidentify(ds)
    for keyword in ("PatientIdentityRemoved", "DeidentificationMethod",
                    "DeidentificationMethodCodeSequence"):
        assert keyword not in ds


# ---- real files from other sources -----------------------------------------------------------


def test_rtplan_implicit_vr_nested_sequences(deidentifier, read_test_file, key):
    """rtplan.dcm (implicit VR) has referenced UIDs several levels deep."""
    ds = read_test_file("rtplan.dcm")

    def nested_refs(d, depth=0) -> list[str]:
        found = []
        for elem in d:
            if elem.VR == "SQ":
                for item in elem.value:
                    found += nested_refs(item, depth + 1)
            elif elem.keyword == "ReferencedSOPInstanceUID" and depth:
                found.append(elem.value)
        return found

    before = nested_refs(ds)
    assert before, "rtplan.dcm should reference other instances"
    deidentifier("ReferencedSOPInstanceUID, SOPInstanceUID -> remap uid\n").deidentify(ds)
    assert nested_refs(ds) == [pseudonyms.remap_uid(key, u) for u in before]
    assert str(ds.PatientName) == "Last^First^mid^pre"  # no rule: kept


def test_compile_or_raise_then_walk_many_files_with_one_deidentifier(key, write_rules):
    """One DatasetDeidentifier (one memo) serves files of different modalities."""
    from pathlib import Path

    import deid_data

    rules = write_rules("""
        PatientName -> empty
        PatientID -> hash
        SOPInstanceUID -> remap uid
    """)
    plan = compile_or_raise(rules).plan
    deid = DatasetDeidentifier(plan, resolve_keys(plan))
    data = Path(deid_data.__file__).parent / "data"
    files = sorted((data / "dicom-cookies").glob("*.dcm")) + [data / "humans" / "ctbrain1.dcm"]
    for path in files:
        ds = pydicom.dcmread(path)
        old_id, old_sop = ds.PatientID, ds.SOPInstanceUID
        outcome = deid.deidentify(ds)
        assert ds["PatientName"].is_empty
        assert ds.PatientID == pseudonyms.keyed_hash(key, old_id, 64)
        assert ds.SOPInstanceUID == pseudonyms.remap_uid(key, old_sop)
        assert outcome.uid_map[old_sop] == ds.SOPInstanceUID


def test_when_scoped_rules_follow_each_dataset(deidentifier, read_test_file):
    """One deidentifier (one dispatch memo) alternates between datasets meeting the condition
    and not meeting it: each gets the rules of its own condition."""
    deid = deidentifier("""
        PatientName -> empty
        when Modality = MR {
            PatientName -> replace "MR^PATIENT"
        }
    """)
    for name in ("CT_small.dcm", "MR_small.dcm", "CT_small.dcm", "MR_small.dcm"):
        ds = read_test_file(name)
        deid.deidentify(ds)
        if ds.Modality == "MR":
            assert str(ds.PatientName) == "MR^PATIENT", name
        else:
            assert ds["PatientName"].is_empty, name
