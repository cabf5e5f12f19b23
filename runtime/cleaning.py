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


def collected_values(ds: Dataset, wanted: dict[int, str]) -> list[tuple[str, str]]:
    """(kind, text) of every element whose tag `wanted` names, at any depth, before any change."""
    found: list[tuple[str, str]] = []
    for tag in list(ds._dict):
        if tag in wanted:
            found.extend((wanted[tag], text) for text in texts_of(ds[tag].value))
            continue
        raw = ds._dict[tag]
        # implicit VR: a sequence by the dictionary, or by its undefined length (both engines agree)
        if raw.VR == "SQ" or (raw.VR is None and (tag in IMPLICIT_SEQUENCES or getattr(raw, "length", 0) == UNDEFINED)):
            value = ds[tag].value
            if isinstance(value, Sequence):
                for item in value:
                    found.extend(collected_values(item, wanted))
    return found


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
