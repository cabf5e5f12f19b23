"""`collect`: the PHI of a dataset, gathered before the walk changes anything.

In: a dataset and the Plan's PHI collections (tag → kind). Out: (kind, text) pairs for
`build_phi`. (`clean` itself is batched across files in `deferred`.)
"""
from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidc.runtime.rawread import IMPLICIT_SEQUENCES, UNDEFINED
from deidc.runtime.texts import plain_codec, raw_texts, texts_of


def collected_values(ds: Dataset, wanted: dict[int, str]) -> list[tuple[str, str]]:
    """(kind, text) of every element whose tag `wanted` names, at any depth, before any change.
    Plain text is decoded straight from the raw bytes: converting it would cost more, and most
    of these elements are removed by the rules anyway."""
    found: list[tuple[str, str]] = []
    codec = plain_codec(ds)
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
                    found.extend(collected_values(item, wanted))
    return found
