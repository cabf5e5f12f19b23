"""Unknown standard elements and the file meta group, through `deidc apply` (issue 12, obs. 5).

A fuzz run released planted names in standard-group tags whose bits had flipped (tags the DICOM
dictionary does not know, which `default -> keep` kept verbatim), and a real corpus released
SourceApplicationEntityTitle and other group 0002 elements copied from the input, because rules
on file meta elements were compiled and then ignored. Here, on pydicom's CT_small with such an
element and such a file meta:

- both shipped rulesets remove the unknown element (`unknown * -> remove`) unless the option
  `keep-unknown-elements` is selected, and remove the identifying file meta elements;
- a user rule on a file meta element applies, in both engines, with the same bytes;
- a rule naming a file meta element that deidc writes itself is a compile error that says so.
Outcomes are read back from the output files with pydicom.
"""
from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_has_tag, mask_match
from pydicom.dataset import Dataset

from deidc.resources import RULESETS_DIR

# (0010,0010) PatientName with its lowest bit flipped: a standard group, a tag the dictionary
# lacks (no entry, no repeating-group entry), as the fuzz run found them.
FLIPPED_NAME = 0x00100011
# the same inside a sequence item: (0008,1155) ReferencedSOPInstanceUID's neighbour (0008,1157)
FLIPPED_IN_ITEM = 0x00081157
PLANTED = "GALLOWAY^JOHN"
IDENTIFYING_META = {
    "SourceApplicationEntityTitle": "ST_AGNES_CT",
    "SendingApplicationEntityTitle": "AGNES_SEND",
    "ReceivingApplicationEntityTitle": "AGNES_RECV",
    "SourcePresentationAddress": "dicom://agnes.example.org:104",
    "SendingPresentationAddress": "dicom://send.example.org:104",
    "ReceivingPresentationAddress": "dicom://recv.example.org:104",
    "PrivateInformationCreatorUID": "1.2.826.0.1.3680043.8.498.4711",
    "PrivateInformation": b"GALLOWAY JOHN MRN 0047110",
}
RULESETS = ["tcia.deid", "ps3.15-basic.deid"]


def test_the_planted_tags_are_unknown_to_the_dictionary():
    for tag in (FLIPPED_NAME, FLIPPED_IN_ITEM):
        assert not dictionary_has_tag(tag) and mask_match(tag) is None
        assert not (tag >> 16) & 1  # a standard (even) group


@pytest.fixture
def planted(tmp_path) -> Path:
    """CT_small with an unknown PN element at the top level and in a sequence item, and a file
    meta holding every identifying element of group 0002."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    assert not ds.file_meta.TransferSyntaxUID.is_implicit_VR  # explicit VR: the element says PN
    ds.add_new(FLIPPED_NAME, "PN", PLANTED)
    item = Dataset()
    item.ReferencedSOPClassUID = ds.SOPClassUID
    item.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    item.add_new(FLIPPED_IN_ITEM, "LO", PLANTED)
    ds.ReferencedImageSequence = [item]
    for keyword, value in IDENTIFYING_META.items():
        setattr(ds.file_meta, keyword, value)
    folder = tmp_path / "in"
    folder.mkdir()
    ds.save_as(folder / "ct.dcm", enforce_file_format=True)
    return folder


def _apply(deidc, rules: Path, source: Path, out: Path, *extra: str) -> pydicom.Dataset:
    run = deidc("apply", rules, source, "-o", out, "--workers", "1", "--no-progress", *extra)
    assert run.returncode == 0, run.stdout + run.stderr
    outputs = sorted(out.rglob("*.dcm"))
    assert len(outputs) == 1, outputs
    return pydicom.dcmread(outputs[0])


def _meta_keywords(ds: pydicom.Dataset) -> set[str]:
    return {elem.keyword for elem in ds.file_meta}


@pytest.mark.parametrize("ruleset", RULESETS)
def test_shipped_rulesets_remove_unknown_elements_and_identifying_file_meta(deidc, planted, tmp_path, ruleset):
    ds = _apply(deidc, RULESETS_DIR / ruleset, planted, tmp_path / "out")
    assert FLIPPED_NAME not in ds
    assert FLIPPED_IN_ITEM not in ds.ReferencedImageSequence[0]
    assert "ReferencedSOPInstanceUID" in ds.ReferencedImageSequence[0]  # known elements still decided as before
    assert not _meta_keywords(ds) & set(IDENTIFYING_META)
    # what deidc writes itself is there and consistent
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert PLANTED.encode() not in (next((tmp_path / "out").rglob("*.dcm"))).read_bytes()


@pytest.mark.parametrize("ruleset", RULESETS)
def test_keep_unknown_elements_option_keeps_them(deidc, planted, tmp_path, ruleset):
    ds = _apply(deidc, RULESETS_DIR / ruleset, planted, tmp_path / "out", "--option", "keep-unknown-elements")
    assert ds[FLIPPED_NAME].value == PLANTED
    assert ds.ReferencedImageSequence[0][FLIPPED_IN_ITEM].value == PLANTED
    assert not _meta_keywords(ds) & set(IDENTIFYING_META)  # the option is about unknown elements only


def test_the_option_is_documented_in_the_ruleset_headers():
    for ruleset in RULESETS:
        header = "\n".join(line for line in (RULESETS_DIR / ruleset).read_text().splitlines()
                           if line.startswith("#"))
        assert "keep-unknown-elements" in header, ruleset
        assert "option keep-unknown-elements {" in (RULESETS_DIR / ruleset).read_text()


def test_a_rule_on_a_file_meta_element_applies_in_both_engines(deidc, planted, tmp_path):
    rules = tmp_path / "site.deid"
    rules.write_text('version 1\nuse "tcia"\nSourceApplicationEntityTitle -> replace "X"\n', encoding="utf-8")
    written = {}
    for codec in ("fast", "reference"):
        ds = _apply(deidc, rules, planted, tmp_path / codec, "--codec", codec)
        assert ds.file_meta.SourceApplicationEntityTitle == "X"
        assert "SendingApplicationEntityTitle" not in ds.file_meta  # tcia's rule still removes the others
        written[codec] = next((tmp_path / codec).rglob("*.dcm")).read_bytes()
    assert written["fast"] == written["reference"]


@pytest.mark.parametrize("selector", ["TransferSyntaxUID", "(0002,0010)"])
def test_a_rule_on_a_runtime_owned_file_meta_element_is_a_compile_error(deidc, planted, tmp_path, selector):
    rules = tmp_path / "site.deid"
    rules.write_text(f'version 1\nuse "tcia"\n{selector} -> replace "1.2.840.10008.1.2"\n', encoding="utf-8")
    run = deidc("apply", rules, planted, "-o", tmp_path / "out", "--workers", "1", "--no-progress")
    assert run.returncode != 0
    assert "deidc writes this file-meta element itself" in run.stderr
    assert "site.deid:3:1" in run.stderr
    assert not any((tmp_path / "out").rglob("*.dcm"))
