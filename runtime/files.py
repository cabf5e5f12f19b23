"""Reading input files and writing output files, safely, with either engine.

In: paths and the codec ("fast": the byte-level engine of rawread/rawwrite, handing any file it
cannot copy to the reference engine; "reference": pydicom's reader and writer). Out: an
`InputFile` (the dataset, and its source bytes when the fast engine read it), or a `NotDicom`
reason; output files written under a temporary name and renamed into place, so an output tree
never holds a half-written file. Pixel data is never decoded here: values are written back in the
input's own transfer syntax. Both engines write a zero preamble: the input's may carry anything.
"""
from __future__ import annotations

import itertools
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from deidc.runtime.rawread import NotForFastEngine, SourceFile, read_file
from deidc.runtime.rawwrite import encode_file, write_pieces

CODECS = ("fast", "reference")

_UNSAFE = re.compile(r"[^A-Za-z0-9._^-]")
# Names the batch itself uses at the top of the output folder; a PatientID must not take them.
RESERVED_NAMES = frozenset({"mappings", "audit.jsonl", "quarantine.csv", ".deidc-staging", "audit.jsonl.partial"})


class NotDicom(Exception):
    """The file is not DICOM, or not readable as DICOM."""


def find_inputs(root: Path) -> list[Path]:
    """Every regular file under `root` (or `root` itself), sorted, hidden files skipped."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(root).parts))


@dataclass
class InputFile:
    dataset: Dataset
    source: SourceFile | None = None  # set when the fast engine read the file
    routed: str | None = None  # why the fast engine handed the file to the reference engine


def read_input(path: Path, codec: str = "fast") -> InputFile:
    """Read one input with the chosen engine; the fast one falls back to the reference one."""
    if codec == "reference":
        return InputFile(read_dataset(path))
    try:
        source = read_file(path)
    except NotForFastEngine as why:
        return InputFile(read_dataset(path), routed=str(why))
    ds = source.dataset
    _check_instance(ds)
    _ensure_file_meta(ds)
    return InputFile(ds, source)


def read_dataset(path: Path) -> Dataset:
    """The reference engine: pydicom's reader, with the checks the batch relies on."""
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError:
        # No preamble: accept only if it parses as a real dataset with an instance UID.
        try:
            with warnings.catch_warnings():  # guessing the encoding of arbitrary bytes is noisy
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, force=True)
                _ = ds.SOPInstanceUID, ds.SOPClassUID
        except Exception:
            raise NotDicom("not a DICOM file (no DICM preamble and no SOP Instance UID)") from None
    except Exception as err:
        raise NotDicom(f"unreadable DICOM: {type(err).__name__}: {err}") from None
    _check_complete(ds)
    _check_instance(ds)
    _ensure_file_meta(ds)
    _settle_encoding(ds)
    ds.preamble = None  # written as zeros
    return ds


def _check_instance(ds: Dataset) -> None:
    missing = [k for k in ("SOPClassUID", "SOPInstanceUID") if not ds.get(k)]
    if missing:
        raise NotDicom(f"no {' or '.join(missing)}: not a storable instance, so no valid output path or file meta")


def _check_complete(ds: Dataset) -> None:
    """pydicom returns short values at the end of a truncated file; refuse such files."""
    undefined = 0xFFFFFFFF
    for elem in ds._dict.values():
        length = getattr(elem, "length", 0)
        value = elem.value if getattr(elem, "is_raw", False) else None
        if isinstance(value, bytes) and length != undefined and len(value) < length:
            raise NotDicom(f"truncated file: element ({elem.tag.group:04X},{elem.tag.element:04X}) "
                           f"declares {length} bytes, the file holds {len(value)}")


def _settle_encoding(ds: Dataset) -> None:
    """A file whose body is implicit VR under an explicit-VR transfer syntax (it happens) would be
    written with the VRs missing: resolve every element's VR from the dictionary first."""
    if ds.file_meta.TransferSyntaxUID.is_implicit_VR:
        return
    if any(getattr(elem, "is_raw", False) and elem.VR is None for elem in ds._dict.values()):
        for _ in ds.iterall():
            pass


def _ensure_file_meta(ds: Dataset) -> None:
    """Files without a Part 10 header get one that states their own encoding."""
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                  ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    if "MediaStorageSOPClassUID" not in meta and "SOPClassUID" in ds:
        meta.MediaStorageSOPClassUID = ds.SOPClassUID


def safe_component(text: str, fallback: str) -> str:
    """A value made safe as one path component."""
    cleaned = _UNSAFE.sub("_", text.strip(" \x00"))[:128]
    if not cleaned.strip("._"):
        return fallback
    if cleaned.startswith(".") or cleaned in RESERVED_NAMES:  # no hidden or reserved names
        cleaned = "_" + cleaned
    return cleaned


def output_relpath(ds: Dataset) -> Path:
    """<PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm (new values)."""
    return Path(
        safe_component(str(ds.get("PatientID", "") or ""), "no-patient-id"),
        safe_component(str(ds.get("StudyInstanceUID", "") or ""), "no-study-uid"),
        safe_component(str(ds.get("SeriesInstanceUID", "") or ""), "no-series-uid"),
        safe_component(str(ds.get("SOPInstanceUID", "") or ""), "no-sop-uid") + ".dcm",
    )


_staged = itertools.count()


def write_temporary(ds: Dataset, directory: Path, source: SourceFile | None = None) -> tuple[Path, bool]:
    """Write `ds` as Part 10 to a new temporary file in `directory`; return its path and whether
    the fast engine wrote it (copying untouched elements from `source`). Names are process id +
    counter (cheaper than mkstemp's random probing), opened exclusively."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{os.getpid()}-{next(_staged)}.partial"
    pieces = encode_file(source, ds) if source is not None else None
    try:
        with path.open("xb") as fh:
            if pieces is not None:
                write_pieces(fh, pieces)
            else:
                ds.save_as(fh, enforce_file_format=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, pieces is not None


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".partial", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(name, path)
