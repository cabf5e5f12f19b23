"""The PS3.15 de-identification markers a Plan adds to every dataset, encoded once per process.

In: the Plan's markers (method text, method codes) and the dataset's encoding. Out: elements
put straight into the dataset. The same few elements go into every file, so they are encoded
once (per VR encoding) with pydicom's own writer and shared as raw elements, which are immutable;
both engines write raw values verbatim. Big-endian datasets and non-ASCII texts get the elements
built the ordinary way.
"""
from __future__ import annotations

from functools import lru_cache

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.tag import BaseTag

from deidc.compiler.plan import Markers
from deidc.dicom import LONG_VRS, elements_of

LONGITUDINAL_MODIFIED = 0x00280303


def add_markers(ds: Dataset, markers: Markers) -> None:
    """PatientIdentityRemoved, DeidentificationMethod and its code sequence."""
    implicit, little = ds.original_encoding
    if little is not True or implicit is None or not markers.method.isascii():
        _add_built(ds, markers)
        return
    for elem in _encoded(markers, implicit):
        elements_of(ds)[elem.tag] = elem


def mark_dates_modified(ds: Dataset) -> None:
    """PS3.15: LongitudinalTemporalInformationModified = MODIFIED whenever dates were changed."""
    implicit, little = ds.original_encoding
    if little is not True or implicit is None:
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
        return
    elements_of(ds)[BaseTag(LONGITUDINAL_MODIFIED)] = RawDataElement(
        BaseTag(LONGITUDINAL_MODIFIED), None if implicit else "CS", 8, b"MODIFIED", 0, bool(implicit), True)


def _add_built(ds: Dataset, markers: Markers) -> None:
    for elem in _built(markers):
        ds[elem.tag] = elem


def _built(markers: Markers) -> list[DataElement]:
    elements = [DataElement(0x00120062, "CS", "YES"), DataElement(0x00120063, "LO", markers.method[:64])]
    items = []
    for code in markers.codes:
        item = Dataset()
        item.CodeValue = code.value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = code.meaning
        items.append(item)
    if items:
        elements.append(DataElement(0x00120064, "SQ", items))
    return elements


@lru_cache(maxsize=8)
def _encoded(markers: Markers, implicit: bool) -> tuple[RawDataElement, ...]:
    """Each marker element as the raw element pydicom would read back from its own encoding."""
    out = []
    for elem in _built(markers):
        holder = Dataset()
        holder[elem.tag] = elem
        fp = DicomBytesIO()
        fp.is_implicit_VR, fp.is_little_endian = implicit, True
        write_dataset(fp, holder)
        encoded = fp.getvalue()
        header = 12 if not implicit and elem.VR in LONG_VRS else 8
        value = encoded[header:]
        out.append(RawDataElement(BaseTag(elem.tag), None if implicit else elem.VR, len(value), value,
                                  0, implicit, True))
    return tuple(out)
