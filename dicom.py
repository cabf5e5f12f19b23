"""What deidc knows of DICOM itself: the VRs (PS3.5 6.2), the data dictionary (PS3.6, as pydicom
ships it), how a tag is written, and a dataset's elements.

In: tags, VRs, pydicom Datasets. Out: VR sets, VRs and tags from the dictionary, tag texts, a
dataset's element dict. The dictionary's facts are pydicom's, read here rather than copied. This
is the one module that reaches into pydicom's internals (its dictionary tables, a Dataset's
`_dict`): when pydicom changes them, this is the file to change. It imports no other deidc
module: every stage sits above it (tests/crosscheck/test_layers.py).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import cast

from pydicom.datadict import DicomDictionary, RepeatersDictionary, dictionary_VR, keyword_dict
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.valuerep import BYTES_VR, CUSTOMIZABLE_CHARSET_VR, EXPLICIT_VR_LENGTH_32, STANDARD_VR, STR_VR

# ---- VRs (PS3.5 6.2) ---------------------------------------------------------------------------
# pydicom's own VR sets where one says exactly what is meant (the reader and the writer follow
# them), as plain strings; the rest written out here.

def _names(vrs: Iterable[str]) -> frozenset[str]:
    """pydicom's VR enum members as plain strings (its sets are mutable: these are copies)."""
    return frozenset(str(vr) for vr in vrs)


VRS = _names(STANDARD_VR)
# In explicit VR, a 2-byte reserved field and a 4-byte length follow these VRs (PS3.5 7.1.2); the
# others have a 2-byte length.
LONG_VRS = _names(EXPLICIT_VR_LENGTH_32)
TEXT_VRS = _names(STR_VR)  # character strings
# Free text (names, descriptions, comments): the VRs the Specific Character Set applies to (PS3.5
# 6.1.2.3); the other text VRs are codes, numbers, dates, UIDs and URIs of the default repertoire.
FREE_TEXT_VRS = _names(CUSTOMIZABLE_CHARSET_VR)
BYTE_VRS = _names(BYTES_VR)  # values that are bytes: the O* VRs and UN
# Text that is always one value: a backslash in it is a character, not a value delimiter.
SINGLE_VALUE_TEXT_VRS = frozenset({"LT", "ST", "UT", "UR"})
# The short text VRs whose characters are a few of the default repertoire (digits, upper-case
# letters, a few signs and the space): codes, numbers, dates and times, ages and UIDs. (AE and UR
# take most of the repertoire.)
RESTRICTED_TEXT_VRS = frozenset({"AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})
DATE_VRS = frozenset({"DA", "DT", "TM"})  # dates, date-times and times
NUMERIC_TEXT_VRS = frozenset({"DS", "IS"})  # numbers written as text
INT_VRS = frozenset({"IS", "SL", "SS", "SV", "UL", "US", "UV"})  # whole numbers: IS and the binary integers
FLOAT_VRS = frozenset({"FD", "FL"})  # binary floating point
BINARY_NUMBER_VRS = (INT_VRS - NUMERIC_TEXT_VRS) | FLOAT_VRS
NUMBER_VRS = BINARY_NUMBER_VRS | NUMERIC_TEXT_VRS


# ---- tags ---------------------------------------------------------------------------------------

def format_tag(tag: int, *, lower: bool = False) -> str:
    """'(GGGG,EEEE)', as PS3.6 writes a tag; `lower`: '(gggg,eeee)', as the audit and the walk's
    element paths write it."""
    if lower:
        return f"({tag >> 16:04x},{tag & 0xFFFF:04x})"
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


# ---- the data dictionary ------------------------------------------------------------------------
# Two ways to ask it, both needed: `dictionary_vr(s)` as pydicom's reader does (the tag's own
# entry, else its repeating group's, such as (60xx,3000)), and `listed_vr(s)`, the tag's own entry
# only (a tag of a repeating group has none), for the checks and scans written against the
# dictionary's own list of tags.

def dictionary_vr(tag: int) -> str | None:
    """The VR the dictionary gives the tag, repeating groups included; the first of an ambiguous
    one ('US or SS' → 'US'); None for a tag it does not know (private tags among them)."""
    try:
        return dictionary_VR(tag).split(" or ")[0]
    except KeyError:
        return None


def dictionary_vrs(tag: int) -> frozenset[str]:
    """Every VR the dictionary allows for the tag, repeating groups included ('US or SS' → both);
    empty for a tag it does not know."""
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return frozenset()
    return frozenset(v.strip() for v in vr.split(" or "))


def listed_vrs(tag: int) -> tuple[str, ...]:
    """The VRs of the tag's own dictionary entry, in the dictionary's order; () when it has none."""
    entry = DicomDictionary.get(tag)
    return tuple(v.strip() for v in entry[0].split(" or ")) if entry else ()


def listed_vr(tag: int) -> str | None:
    """The first VR of the tag's own dictionary entry ('US or SS' → 'US'); None when it has none."""
    entry = DicomDictionary.get(tag)
    return entry[0].split(" or ")[0] if entry else None


def listed_tags() -> Iterable[int]:
    """Every tag with a dictionary entry of its own (the dictionary lists no private tags)."""
    return DicomDictionary.keys()


@lru_cache(maxsize=None)
def tags_with_vr(vr: str) -> frozenset[int]:
    """The tags whose own dictionary entry allows `vr` (cached: it reads the whole dictionary)."""
    return frozenset(tag for tag in DicomDictionary if vr in listed_vrs(tag))


def keyword_tags() -> Mapping[str, int]:
    """Every dictionary keyword → its tag (pydicom's own table, not a copy: read, never change)."""
    return keyword_dict


def mask_matches_dictionary(value: int, care: int) -> bool:
    """Whether a tag mask (`care`: the bits it fixes, to `value`) can match some dictionary tag,
    or a tag of a repeating-group entry such as (60xx,3000)."""
    if any((tag & care) == value for tag in keyword_dict.values()):
        return True
    for text in RepeatersDictionary:
        r_value = int(text.lower().replace("x", "0"), 16)
        r_care = int("".join("0" if ch in "xX" else "f" for ch in text), 16)
        if (r_value ^ value) & care & r_care == 0:
            return True
    return False


# ---- a dataset's elements -----------------------------------------------------------------------

def elements_of(ds: Dataset) -> dict[int, DataElement | RawDataElement]:
    """The dataset's own tag → element dict, itself, not a copy. Reading it does not convert a raw
    element (`ds[tag]` does), and an int finds an element without a BaseTag built (`ds.get` builds
    one), which counts on the walk's hot path. pydicom types the keys as BaseTag, an int subclass:
    hence the cast. Deleting or replacing by int is fine; a new key must be a BaseTag, since
    pydicom reads the keys as tags."""
    return cast("dict[int, DataElement | RawDataElement]", ds._dict)
