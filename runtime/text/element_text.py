"""The texts of an element: read straight from its raw bytes when they are plain text, and
written back as raw bytes when they are plain ASCII, so that an element a rule only reads is
never converted, and one it changes is not validated and re-encoded by pydicom's value classes.

In: a dataset and a tag. Out: the element's values as strings (what pydicom's conversion gives:
backslash-separated values, padding stripped), or the element replaced by one holding the new
values. Anything that is not plain (another character set, bytes, non-ASCII text, an unknown VR)
goes through pydicom, as before. Both engines use these, so their outputs stay identical.
"""
from __future__ import annotations

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

from deidc.dicom import NUMERIC_TEXT_VRS, SINGLE_VALUE_TEXT_VRS, TEXT_VRS, elements_of, listed_vr


def components(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (MultiValue, list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


# pydicom's codec names of the character sets whose text decodes byte by byte, or as UTF-8
# Specific Character Set values (raw bytes) of the plain character sets → pydicom's codec names
PLAIN_CHARSETS = {b"": "iso8859", b"ISO_IR 6": "iso8859", b"ISO_IR 100": "latin_1", b"ISO_IR 192": "utf_8"}
_CHARSET = BaseTag(0x00080005)  # SpecificCharacterSet
PLAIN_CODECS = {"iso8859": "latin-1", "latin_1": "latin-1", "utf_8": "utf-8", "UTF8": "utf-8"}
# The text read and written here, besides the single values of SINGLE_VALUE_TEXT_VRS: values
# separated by backslashes. (DS and IS are left to pydicom: their converted strings keep the
# original spacing.)
MULTI_VALUED_TEXT = TEXT_VRS - SINGLE_VALUE_TEXT_VRS - NUMERIC_TEXT_VRS


def raw_texts(raw, codec: str) -> list[str] | None:
    """The texts of a raw text element, as pydicom would give them; None: let pydicom decode."""
    vr, value = raw.VR, raw.value
    if value is None or not isinstance(value, bytes):
        return None if vr not in MULTI_VALUED_TEXT | SINGLE_VALUE_TEXT_VRS else ([] if value is None else None)
    try:
        text = value.decode(codec)
    except UnicodeDecodeError:
        return None
    if vr in SINGLE_VALUE_TEXT_VRS:
        return [text.rstrip(" \x00")]
    if vr not in MULTI_VALUED_TEXT or "\x1b" in text:
        return None
    parts = [part.strip(" \x00") if vr != "PN" else part.rstrip(" \x00") for part in text.split("\\")]
    return parts


def plain_codec(ds: Dataset) -> str | None:
    """The Python codec of the dataset's character set when it is a plain one, else None. Read
    from the raw element when there is one: pydicom's `_character_set` converts it every time."""
    elem = elements_of(ds).get(_CHARSET)
    charset: str | list[str] | None
    if elem is None:
        charset = ds._parent_encoding
    elif getattr(elem, "is_raw", False) and isinstance(elem.value, bytes):
        charset = PLAIN_CHARSETS.get(elem.value.strip(b" \x00"))
    else:
        charset = ds._character_set
    if charset is None:
        return None
    name = charset if isinstance(charset, str) else (charset[0] if len(charset) == 1 else None)
    return PLAIN_CODECS.get(name) if name is not None else None


def element_texts(ds: Dataset, tag: int) -> list[str]:
    """`texts_of(ds[tag].value)`, decoded straight from the raw bytes when they are plain text,
    so an element a rule only reads (and leaves unchanged) is neither converted nor re-encoded."""
    raw = elements_of(ds)[tag]
    if getattr(raw, "is_raw", False) and raw.value is not None:
        codec = plain_codec(ds)
        texts = raw_texts(raw, codec) if codec else None
        if texts is not None:
            return texts
    return texts_of(ds[tag].value)


def texts_of(value) -> list[str]:
    if isinstance(value, bytes):
        text = _decode(value)
        return [text] if text is not None else []
    return components(value)


def _decode(value: bytes) -> str | None:
    """Bytes of a private element kept as UN/OB: text only if it reads as printable text."""
    text = value.rstrip(b"\x00 ").decode("latin-1")
    return text if text and all(ch.isprintable() for ch in text) else None


def write_texts(ds: Dataset, tag: int, values: list[str]) -> None:
    elem = ds[tag]
    if isinstance(elem.value, bytes):
        elem.value = values[0].encode("latin-1") if values else b""
    else:
        elem.value = values if len(values) > 1 else (values[0] if values else None)


def set_texts(ds: Dataset, tag: int, values: list[str]) -> None:
    """Write values back: as a raw element of ASCII bytes, padded as pydicom pads them, when the
    element holds text of a known VR in a little-endian dataset with a plain character set;
    else through pydicom."""
    elem = elements_of(ds)[tag]
    implicit, little = ds.original_encoding
    vr = elem.VR if elem.VR is not None else listed_vr(tag)
    text = "\\".join(values)
    if not (little is True and implicit is not None and text.isascii()
            and (vr in MULTI_VALUED_TEXT or (vr in SINGLE_VALUE_TEXT_VRS and len(values) <= 1))
            and plain_codec(ds) is not None):
        return write_texts(ds, tag, values)
    raw = text.encode("ascii")
    if len(raw) % 2:
        raw += b"\x00" if vr == "UI" else b" "
    btag = BaseTag(tag)
    elements_of(ds)[btag] = RawDataElement(btag, None if implicit else vr, len(raw), raw, 0, implicit, True)
