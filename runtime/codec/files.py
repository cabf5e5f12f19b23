"""Reading input files and writing output files, safely, with either engine.

In: paths and the codec ("fast": the byte-level engine of rawread/rawwrite, handing any file it
cannot copy to the reference engine; "reference": pydicom's reader and writer). Out: an
`InputFile` (the dataset, and its source bytes when the fast engine read it), or a `NotDicom`
reason (`MalformedInput` for a file that cannot be read to its end); output files written under a
temporary name, fsynced and checked (`InvalidOutput` if they would not decode) before the batch
renames them into place, so an output tree never holds a half-written or broken file. Every input
passes the structural check of runtime/codec/integrity.py before either engine parses it. Pixel data is
never decoded here: values are written back in the input's own transfer syntax. Both engines write
a zero preamble: the input's may carry anything.
"""
from __future__ import annotations

import itertools
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from deidc.dicom import elements_of
from deidc.runtime.audit import summarise_error
from deidc.runtime.codec import integrity
from deidc.runtime.codec.rawread import NotForFastEngine, SourceFile, read_file
from deidc.runtime.codec.rawwrite import encode_file, write_pieces

CODECS = ("fast", "reference")



class NotDicom(Exception):
    """The file is not DICOM, or not readable as DICOM."""


class MalformedInput(NotDicom):
    """A DICOM file that cannot be read to its end, or not as its header says (the reason says where)."""


class InvalidOutput(Exception):
    """A staged output failed the structural check: it would not decode, so it is not released."""


@dataclass
class InputFile:
    dataset: Dataset
    source: SourceFile | None = None  # set when the fast engine read the file
    routed: str | None = None  # why the fast engine handed the file to the reference engine


def read_input(path: Path, codec: str = "fast") -> InputFile:
    """Read one input with the chosen engine; the fast one falls back to the reference one.
    The file is checked to its end first: neither engine sees a cut or malformed file."""
    structure = check_input(path)
    if codec == "reference":
        return InputFile(read_dataset(path, structure))
    try:
        source = read_file(path)
    except NotForFastEngine as why:
        return InputFile(read_dataset(path, structure), routed=str(why))
    ds = source.dataset
    _check_instance(ds)
    _ensure_file_meta(ds, structure)
    return InputFile(ds, source)


def check_input(path: Path) -> integrity.Structure:
    """The structural check (runtime/codec/integrity.py), its refusals as NotDicom reasons."""
    try:
        return integrity.check_input(path)
    except integrity.Malformed as err:
        if not err.part10:  # no DICM: the bytes may be anything, so say that first
            raise NotDicom(f"not a DICOM file (no DICM preamble, and not a readable data set: {err})") from None
        raise MalformedInput(f"{err} (refused whole: no part of it is released)") from None


def read_dataset(path: Path, structure: integrity.Structure | None = None) -> Dataset:
    """The reference engine: pydicom's reader, with the checks the batch relies on. `structure`:
    the input's structural check, when the caller has made it."""
    if structure is None:
        structure = check_input(path)
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
        raise NotDicom(f"unreadable DICOM ({summarise_error(err)})") from None
    _check_instance(ds)
    _ensure_file_meta(ds, structure)
    _settle_encoding(ds)
    ds.preamble = None  # written as zeros
    return ds


def _check_instance(ds: Dataset) -> None:
    missing = [k for k in ("SOPClassUID", "SOPInstanceUID") if not ds.get(k)]
    if missing:
        raise NotDicom(f"no {' or '.join(missing)}: not a storable instance, so no valid output path or file meta")
    _check_whole(ds)


# Type 1 in every composite IOD (General Study, General Series modules): a file without them is
# most often one cut short exactly between two elements, which no structural check can see.
_STUDY_SERIES = ("StudyInstanceUID", "SeriesInstanceUID")
_PIXELS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # Pixel Data, Float and Double Float Pixel Data


def _check_whole(ds: Dataset) -> None:
    """An instance that lacks what its IOD cannot do without is refused, not released as if whole."""
    missing = [k for k in _STUDY_SERIES if not str(ds.get(k, "") or "").strip()]
    sop_class = UID(str(ds.SOPClassUID))
    if "Image Storage" in sop_class.name and not any(tag in ds for tag in _PIXELS):
        missing.append("PixelData")  # Type 1 in the Image Pixel module of every image IOD
    if missing:
        raise MalformedInput(f"no {', '.join(missing)}, which every {sop_class.name or 'composite instance'} "
                             "holds: the file is incomplete (often cut short between two elements); refused whole")


def _settle_encoding(ds: Dataset) -> None:
    """A file whose body is implicit VR under an explicit-VR transfer syntax (it happens) would be
    written with the VRs missing: resolve every element's VR from the dictionary first."""
    if ds.file_meta.TransferSyntaxUID.is_implicit_VR:
        return
    if any(getattr(elem, "is_raw", False) and elem.VR is None for elem in elements_of(ds).values()):
        for _ in ds.iterall():
            pass


def _ensure_file_meta(ds: Dataset, structure: integrity.Structure) -> None:
    """Files without a Part 10 header, or whose header lacks a transfer syntax (or has an empty
    one), get a header that states the encoding their data set really has (as the structural
    check found it; pydicom's reader detects it the same way)."""
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = FileMetaDataset()
    if not str(meta.get("TransferSyntaxUID", "") or "").strip(" \x00"):
        meta.TransferSyntaxUID = (ImplicitVRLittleEndian if structure.implicit else
                                  ExplicitVRLittleEndian if structure.little else ExplicitVRBigEndian)
    if "MediaStorageSOPClassUID" not in meta and "SOPClassUID" in ds:
        meta.MediaStorageSOPClassUID = ds.SOPClassUID


_staged = itertools.count()


def write_temporary(ds: Dataset, directory: Path, source: SourceFile | None = None) -> tuple[Path, bool]:
    """Write `ds` as Part 10 to a new temporary file in `directory` and check that it decodes
    (the structural check as an output); return its path and whether the fast engine wrote it
    (copying untouched elements from `source`). Names are process id + counter (cheaper than
    mkstemp's random probing), opened exclusively. InvalidOutput (the file removed) if the check
    fails. The caller makes the file durable (`sync_files`) before it is renamed into place."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{os.getpid()}-{next(_staged)}.partial"
    pieces = encode_file(source, ds) if source is not None else None
    try:
        with path.open("xb") as fh:
            if pieces is not None:
                write_pieces(fh, pieces)
            else:
                ds.save_as(fh, enforce_file_format=True)
        integrity.check_output(path)
    except integrity.Malformed as err:
        path.unlink(missing_ok=True)
        raise InvalidOutput(f"the output would not decode: {err}") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, pieces is not None


def sync_files(paths: list[str]) -> None:
    """fsync every file of `paths`, all at once: a filesystem commits concurrent fsyncs together,
    so a batch of files costs about one flush instead of one each (the first error is raised)."""
    if not paths:
        return
    with ThreadPoolExecutor(max_workers=min(16, len(paths))) as pool:
        list(pool.map(_fsync, paths))


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
