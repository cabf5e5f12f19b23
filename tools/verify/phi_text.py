"""The PHI search in text (see tools/verify/phi_search.py): every text value of the output, file
meta and data set, at any depth, and the printable runs of private and unknown bytes."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import regex
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from deidc.dicom import TEXT_VRS, format_tag
from deidc.tools.verify import Finding
from deidc.tools.verify.phi_match import KINDS, MAX_TEXT, PhiValue, PhiValues
from deidc.tools.verify.phi_values import BIRTH_DATE, strings

# Text VRs that hold no words: UIDs, numbers, ages, and dates and times (a date in a date element
# is the headers scanner's to judge).
NOT_SEARCHED_VRS = frozenset({"UI", "DA", "DT", "TM", "DS", "IS", "AS"})
SEARCHED_VRS = TEXT_VRS - NOT_SEARCHED_VRS
BYTES_SEARCHED_VRS = frozenset({"OB", "UN"})  # private and unknown elements: their printable runs
MIN_PRINTABLE_RUN = 4
# Tags whose bytes are never text: pixel data, waveforms, overlays.
PIXEL_GROUP = 0x7FE0


def search_text(out_ds: Dataset, phi: PhiValues, rel: str) -> Iterator[Finding]:
    """Every text value of the output (file meta and data set, at any depth, private elements'
    printable bytes too) that holds a PHI value of the original patient."""
    if not len(phi):
        return
    kept = _kept_dates(out_ds, phi)
    seen: set[tuple[str, str]] = set()
    for path, text, binary in text_values(out_ds):
        # three upper-case letters in a binary value are as likely noise as initials
        for value in sorted(phi.find(text, initials=not binary), key=lambda v: (KINDS.index(v.kind), v.what)):
            if value in kept or (path, value.detail) in seen:
                continue
            seen.add((path, value.detail))
            yield Finding("phi-in-text", rel, path, value.detail)


def _kept_dates(out_ds: Dataset, phi: PhiValues) -> set[PhiValue]:
    """The study's own dates that the output's date element still holds: the release keeps them."""
    kept = set()
    for value in phi:
        if value.kind == "date" and value.source != BIRTH_DATE:
            out = strings(out_ds, value.source)
            if out and regex.sub(r"\D", "", out[0]) == value.text:
                kept.add(value)
    return kept


def text_values(ds: Dataset) -> Iterator[tuple[str, str, bool]]:
    """(tag path, text, read from bytes) for every searched value: string VRs but UIDs, numbers
    and dates; the printable runs of OB and UN values; file meta first."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        yield from _walk(meta, "")
    yield from _walk(ds, "")


def _walk(ds: Dataset, prefix: str) -> Iterator[tuple[str, str, bool]]:
    for tag in list(ds.keys()):
        try:
            elem = ds[tag]
        except Exception:  # a value pydicom cannot read: the conformance scanner's to report
            continue
        path = prefix + format_tag(int(tag), lower=True)
        if elem.VR == "SQ" or isinstance(elem.value, Sequence):
            for index, item in enumerate(elem.value or ()):
                if isinstance(item, Dataset):
                    yield from _walk(item, f"{path}[{index}]/")
            continue
        text = _element_text(elem)
        if text:
            yield path, text, str(elem.VR) in BYTES_SEARCHED_VRS


def _element_text(elem: DataElement) -> str:
    tag, vr, value = int(elem.tag), str(elem.VR), elem.value
    if value is None or value == "" or value == b"":
        return ""
    if vr in SEARCHED_VRS:
        items: Iterable[object] = value if isinstance(value, MultiValue | list | tuple) else [value]
        return "\\".join(i.decode("latin-1") if isinstance(i, bytes) else str(i) for i in items)
    if vr in BYTES_SEARCHED_VRS and isinstance(value, bytes) and tag >> 16 != PIXEL_GROUP:
        return printable_runs(value[:MAX_TEXT])
    return ""


_PRINTABLE = regex.compile(rb"[\x20-\x7e\xa0-\xff\t]{%d,}" % MIN_PRINTABLE_RUN)


def printable_runs(data: bytes) -> str:
    """The runs of printable latin-1 characters in `data`, one a line (`strings`, in short)."""
    return "\n".join(run.decode("latin-1") for run in _PRINTABLE.findall(data))
