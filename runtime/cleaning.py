"""`collect` and `clean` on a dataset's values: gather PHI before the walk; read and write back
the texts `clean` works on (the cleaning itself is batched across files in `deferred`).

In: a dataset and the Plan's PHI collections (tag → kind). Out: (kind, text) pairs for
`build_phi`; the texts of an element, and cleaned texts written back in the element's own form.
"""
from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidc.runtime.actions import components
from deidc.runtime.rawread import IMPLICIT_SEQUENCES, UNDEFINED


def collected_values(ds: Dataset, wanted: dict[int, str], charset=None) -> list[tuple[str, str]]:
    """(kind, text) of every element whose tag `wanted` names, at any depth, before any change.
    Plain text is decoded straight from the raw bytes: converting it would cost more, and most
    of these elements are removed by the rules anyway."""
    found: list[tuple[str, str]] = []
    if charset is None or 0x00080005 in ds._dict:
        charset = ds._character_set
    codec = PLAIN_CODECS.get(charset if isinstance(charset, str) else
                             (charset[0] if len(charset) == 1 else None))
    for tag in list(ds._dict):
        raw = ds._dict[tag]
        if tag in wanted:
            texts = raw_texts(raw, codec) if codec and getattr(raw, "is_raw", False) else None
            found.extend((wanted[tag], text) for text in (texts if texts is not None else texts_of(ds[tag].value)))
            continue
        # implicit VR: a sequence by the dictionary, or by its undefined length (both engines agree)
        if raw.VR == "SQ" or (raw.VR is None and (tag in IMPLICIT_SEQUENCES or getattr(raw, "length", 0) == UNDEFINED)):
            value = ds[tag].value
            if isinstance(value, Sequence):
                for item in value:
                    found.extend(collected_values(item, wanted, charset))
    return found


# pydicom's codec names of the character sets whose text decodes byte by byte, or as UTF-8
PLAIN_CODECS = {"iso8859": "latin-1", "latin_1": "latin-1", "utf_8": "utf-8", "UTF8": "utf-8"}
MULTI_VALUED_TEXT = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM", "UI", "UC"})
SINGLE_TEXT = frozenset({"LT", "ST", "UT", "UR"})


def raw_texts(raw, codec: str) -> list[str] | None:
    """The texts of a raw text element, as pydicom would give them; None: let pydicom decode."""
    vr, value = raw.VR, raw.value
    if value is None or not isinstance(value, bytes):
        return None if vr not in MULTI_VALUED_TEXT | SINGLE_TEXT else ([] if value is None else None)
    try:
        text = value.decode(codec)
    except UnicodeDecodeError:
        return None
    if vr in SINGLE_TEXT:
        return [text.rstrip(" \x00")]
    if vr not in MULTI_VALUED_TEXT or "\x1b" in text:
        return None
    parts = [part.strip(" \x00") if vr != "PN" else part.rstrip(" \x00") for part in text.split("\\")]
    return parts


def element_texts(ds: Dataset, tag: int) -> list[str]:
    """`texts_of(ds[tag].value)`, decoded straight from the raw bytes when they are plain text,
    so an element a rule only reads (and leaves unchanged) is neither converted nor re-encoded."""
    raw = ds._dict[tag]
    if getattr(raw, "is_raw", False) and raw.value is not None:
        charset = ds._character_set
        codec = PLAIN_CODECS.get(charset if isinstance(charset, str) else
                                 (charset[0] if len(charset) == 1 else None))
        texts = raw_texts(raw, codec) if codec else None
        if texts is not None:
            return texts
    return texts_of(ds[tag].value)


def texts_of(value) -> list[str]:
    if isinstance(value, bytes):
        return [_decode(value)] if _decode(value) is not None else []
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
