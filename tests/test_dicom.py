"""deidc.dicom: the VR sets, tag texts, dictionary look-ups and element dict the stages share."""
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from deidc import dicom
from deidc.dicom import (
    dictionary_vr,
    dictionary_vrs,
    elements_of,
    format_tag,
    listed_tags,
    listed_vr,
    listed_vrs,
    tags_with_vr,
)

PATIENT_NAME = 0x00100010
SMALLEST_PIXEL = 0x00280106  # SmallestImagePixelValue: 'US or SS'
OVERLAY_DATA = 0x60003000  # (60xx,3000): a repeating group, 'OB or OW'
PRIVATE = 0x00091001
UNKNOWN = 0x00101234  # even group, no dictionary entry


def test_format_tag():
    assert format_tag(0x7FE00010) == "(7FE0,0010)"
    assert format_tag(0x7FE00010, lower=True) == "(7fe0,0010)"
    assert format_tag(0x00100020) == "(0010,0020)"
    assert format_tag(BaseTag(0x0009100A), lower=True) == "(0009,100a)"
    assert format_tag(0) == "(0000,0000)" and format_tag(0xFFFFFFFF) == "(FFFF,FFFF)"


def test_dictionary_vr_takes_the_first_of_an_ambiguous_entry():
    assert dictionary_vr(PATIENT_NAME) == "PN"
    assert dictionary_vr(SMALLEST_PIXEL) == "US"
    assert dictionary_vrs(SMALLEST_PIXEL) == {"US", "SS"}


def test_unknown_and_private_tags_have_no_dictionary_vr():
    for tag in (UNKNOWN, PRIVATE):
        assert dictionary_vr(tag) is None
        assert dictionary_vrs(tag) == frozenset()
        assert listed_vr(tag) is None and listed_vrs(tag) == ()


def test_repeating_groups_are_in_the_dictionary_but_not_listed():
    """dictionary_vr(s) answer as pydicom's reader does, repeating groups included; listed_vr(s)
    only from the tag's own entry."""
    assert dictionary_vr(OVERLAY_DATA) == "OB" and dictionary_vrs(OVERLAY_DATA) == {"OB", "OW"}
    assert listed_vr(OVERLAY_DATA) is None and listed_vrs(OVERLAY_DATA) == ()
    assert OVERLAY_DATA not in set(listed_tags())
    assert listed_vr(SMALLEST_PIXEL) == "US" and listed_vrs(SMALLEST_PIXEL) == ("US", "SS")


def test_tags_with_vr():
    sequences = tags_with_vr("SQ")
    assert 0x00081140 in sequences  # ReferencedImageSequence
    assert PATIENT_NAME not in sequences
    assert SMALLEST_PIXEL in tags_with_vr("US") and SMALLEST_PIXEL in tags_with_vr("SS")
    assert all(listed_vrs(tag) == ("SQ",) for tag in sequences)  # no entry is 'SQ or ...'


def test_no_ambiguous_entry_mixes_a_text_vr():
    """The scans that read one VR per tag (integrity_walk, rawscan, element_text) rely on it."""
    for tag in listed_tags():
        vrs = listed_vrs(tag)
        if len(vrs) > 1:
            assert not set(vrs) & (dicom.TEXT_VRS | {"SQ"}), (hex(tag), vrs)


def test_vr_sets_hold_what_the_standard_says():
    """The sets taken from pydicom are pinned here: a pydicom that changes one changes deidc."""
    assert dicom.VRS == set("AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV "
                            "TM UC UI UL UN UR US UT UV".split())
    assert dicom.LONG_VRS == {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
    assert dicom.TEXT_VRS == set("AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT".split())
    assert dicom.FREE_TEXT_VRS == {"LO", "LT", "PN", "SH", "ST", "UC", "UT"}
    assert dicom.BYTE_VRS == {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}
    assert dicom.NUMBER_VRS == {"DS", "IS", "FD", "FL", "SL", "SS", "SV", "UL", "US", "UV"}
    assert dicom.BINARY_NUMBER_VRS == {"FD", "FL", "SL", "SS", "SV", "UL", "US", "UV"}
    assert all(type(vr) is str for vr in dicom.VRS | dicom.LONG_VRS | dicom.TEXT_VRS)  # not pydicom's enum
    subsets = (dicom.LONG_VRS, dicom.FREE_TEXT_VRS, dicom.BYTE_VRS, dicom.SINGLE_VALUE_TEXT_VRS,
               dicom.RESTRICTED_TEXT_VRS, dicom.DATE_VRS, dicom.NUMBER_VRS, dicom.INT_VRS)
    assert all(s <= dicom.VRS for s in subsets)
    assert dicom.FREE_TEXT_VRS | dicom.SINGLE_VALUE_TEXT_VRS | dicom.RESTRICTED_TEXT_VRS | dicom.DATE_VRS <= dicom.TEXT_VRS


def test_mask_matches_dictionary():
    assert dicom.mask_matches_dictionary(0x00100010, 0xFFFFFFFF)  # PatientName
    assert dicom.mask_matches_dictionary(0x60003000, 0xFF00FFFF)  # (60xx,3000), a repeating group
    assert not dicom.mask_matches_dictionary(UNKNOWN, 0xFFFFFFFF)


def test_keyword_tags():
    assert dicom.keyword_tags()["PatientName"] == PATIENT_NAME
    assert "NoSuchKeyword" not in dicom.keyword_tags()


def test_elements_of_is_the_datasets_own_dict_indexed_by_int():
    ds = Dataset()
    ds.PatientName = "DOE^JOHN"
    raw = RawDataElement(BaseTag(0x00100020), "LO", 4, b"ID01", 0, False, True)
    elements = elements_of(ds)
    elements[raw.tag] = raw  # a new key: a BaseTag
    assert elements is elements_of(ds)  # the dict itself, not a copy
    assert elements[0x00100020] is raw  # an int finds it, and it stays raw (not converted)
    assert isinstance(elements[PATIENT_NAME], DataElement)
    assert sorted(elements) == [PATIENT_NAME, 0x00100020]
    del elements[PATIENT_NAME]  # by int
    assert PATIENT_NAME not in ds and ds.PatientID == "ID01"
