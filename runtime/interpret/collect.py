"""`collect`: the PHI of a dataset, gathered before the walk changes anything.

In: a dataset and the Plan's PHI collections (tag → kind). Out: (kind, text) pairs for
`build_phi`. (`clean` itself is batched across files in `deferred`.)

The elements are visited in the walk's order by `runtime/interpret/visit.py`, before the rules
(`OriginalValuesVisitor`): every element of the dataset (not the file meta's) at any depth, every
sequence entered but a collected one, sequences told from the raw elements as the fast engine's
header scan tells them (`runtime/codec/rawscan.py` finds the same values without a dataset).
"""
from __future__ import annotations

from pydicom.dataset import Dataset

from deidc.compiler.dispatch import Level
from deidc.dicom import elements_of
from deidc.runtime.interpret.visit import OriginalValuesVisitor
from deidc.runtime.text.element_text import plain_codec, raw_texts, texts_of


def collected_values(ds: Dataset, wanted: dict[int, str]) -> list[tuple[str, str]]:
    """(kind, text) of every element whose tag `wanted` names, at any depth, before any change.
    Plain text is decoded straight from the raw bytes: converting it would cost more, and most
    of these elements are removed by the rules anyway."""
    collector = _Collector(wanted)
    collector.visit(ds, ())
    return collector.found


class _Collector(OriginalValuesVisitor):
    def __init__(self, wanted: dict[int, str]):
        super().__init__(wanted)
        self.wanted = wanted
        self.found: list[tuple[str, str]] = []
        self._codecs: dict[int, tuple[Dataset, str | None]] = {}  # id(dataset) -> (dataset, its plain codec)

    def read_value(self, ds: Dataset, ancestry: tuple[Level, ...], tag: int) -> None:
        raw = elements_of(ds)[tag]
        known = self._codecs.get(id(ds))
        if known is None:  # on the dataset's first read, before a read converts its character set
            known = self._codecs[id(ds)] = (ds, plain_codec(ds))
        codec = known[1]
        texts = raw_texts(raw, codec) if codec and getattr(raw, "is_raw", False) else None
        kind = self.wanted[tag]
        self.found.extend((kind, text) for text in (texts if texts is not None else texts_of(ds[tag].value)))
