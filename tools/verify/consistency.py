"""The consistency scan: what is wrong across the files of a release, each output against its input.

In: the output folder, its released files and output -> input pairs (tree.py). Out: `Finding`s
naming the kind, the file and the tag path, never a value (no UID, no patient ID, no offset).

A second implementation, written apart from `apply` (no Plan, no walk, no mapping tables): it
reads both files of each pair with pydicom and compares them.

Kinds:
    uid-not-remapped     a UI element of the output (any depth) holding an instance UID of its
                         input: the value of a UID attribute that names an instance, series, study,
                         frame of reference, ... (not a SOP class, transfer syntax, coding scheme
                         or other UID the standard registers, nor a private UID TCIA's knowledge
                         base lists as safe to keep). Not with the Retain UIDs Option (113110).
    patient-id-split     the files of one input patient carry more than one output PatientID
    patient-ids-merged   one output PatientID carries the files of more than one input patient
    date-offsets-differ  within one input patient, dates (DA, and the date of a DT, at any depth)
                         shifted by a different number of days than the patient's other dates
                         (the shift is the output's value against the input's at the same path)
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.uid import UID

from deidc.dicom import format_tag
from deidc.tools.verify import Finding
from deidc.tools.verify.headers import (
    DUMMY_NAMES,
    PATIENT_ID,
    RETAIN_UIDS,
    declared_options,
    index,
    is_empty,
    private_kb,
    walk,
)

# UID attributes whose values are not instances: SOP classes, transfer syntaxes, coding schemes,
# context groups, mapping resources, creator versions. Their values are kept by any release.
NOT_INSTANCE = re.compile(r"Class|TransferSyntax|CodingScheme|ContextUID|ContextGroupExtensionCreator"
                          r"|MappingResource|CreatorVersion")
FILES_NAMED = 5  # files a patient-ID finding names


def scan_consistency(out: Path, files: list[Path], pairs: dict[Path, Path]) -> Iterator[Finding]:
    """The findings across the paired files of a release (files without an input are left out)."""
    ids_out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))  # input PID -> output PID -> files
    ids_in: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))  # output PID -> input PID -> files
    dates: dict[str, list[Dated]] = defaultdict(list)  # input PID -> its dates
    for path in files:
        source = pairs.get(path)
        if source is None:
            continue
        rel = str(path.relative_to(out))
        ds, original = _read(path), _read(source)
        if ds is None or original is None:  # headers.py reports an unreadable output
            continue
        if RETAIN_UIDS not in declared_options(ds):
            yield from _uids(ds, original, rel)
        old_id, new_id = _patient_id(original), _patient_id(ds)
        if old_id is None:  # no input patient to group by
            continue
        # An emptied PatientID, or a dummy (the Basic Profile's D writes one value for every
        # patient), is no pseudonym: the rules chose not to keep patients apart; neither a split
        # nor a merge.
        if new_id is not None and new_id.upper() not in DUMMY_NAMES:
            ids_out[old_id][new_id].append(rel)
            ids_in[new_id][old_id].append(rel)
        dates[old_id].extend(_dates(ds, original, rel))
    yield from _patient_ids(ids_out, ids_in)
    yield from _date_offsets(dates)


def _read(path: Path) -> Dataset | None:
    try:
        return pydicom.dcmread(path, force=True)
    except (InvalidDicomError, OSError, ValueError, EOFError, TypeError, KeyError):
        return None


def _patient_id(ds: Dataset) -> str | None:
    elem = ds.get(PATIENT_ID)
    if elem is None or is_empty(elem):
        return None
    return str(elem.value).strip(" \x00")


# ---- UIDs ---------------------------------------------------------------------------------------

def _values(value: object) -> list[str]:
    values = value if isinstance(value, (list, MultiValue)) else [value]
    return [str(v).strip(" \x00") for v in values if v is not None and str(v).strip(" \x00")]


@lru_cache(maxsize=65536)
def _registered(uid: str) -> bool:
    """A UID the standard registers (pydicom's UID dictionary: SOP classes, transfer syntaxes,
    coding schemes, well-known instances): the same in every release."""
    return UID(uid).name != uid


def _instance_uids(original: Dataset) -> dict[str, str]:
    """The input's instance UIDs -> the attribute that held it (a keyword or the tag)."""
    found: dict[str, str] = {}
    for e in walk(original):
        if e.vr != "UI" or is_empty(e.elem):
            continue
        if (e.tag >> 16) & 1:
            if private_kb().get(e.signature) == {"k"}:  # a vendor's constant, kept as safe
                continue
            name = f"private {format_tag(e.tag, lower=True)}"
        else:
            name = e.elem.keyword or format_tag(e.tag, lower=True)
            if NOT_INSTANCE.search(name):
                continue
        for uid in _values(e.elem.value):
            if not _registered(uid):
                found.setdefault(uid, name)
    meta = getattr(original, "file_meta", None)
    elem = meta.get(0x00020003) if meta is not None else None
    if elem is not None:
        for uid in _values(elem.value):
            found.setdefault(uid, "MediaStorageSOPInstanceUID")
    return found


def _uids(ds: Dataset, original: Dataset, rel: str) -> Iterator[Finding]:
    old = _instance_uids(original)
    if not old:
        return
    for e in walk(ds):
        if e.vr != "UI" or is_empty(e.elem):
            continue
        if not (e.tag >> 16) & 1 and NOT_INSTANCE.search(e.elem.keyword or ""):
            continue  # a class UID identifies no one, whatever degenerate value an input gave it ("0")
        for uid in _values(e.elem.value):
            source = old.get(uid)
            if source is not None and not _registered(uid):
                yield Finding("uid-not-remapped", rel, e.path, f"holds the input's {source}, not remapped")
                break


# ---- patient IDs --------------------------------------------------------------------------------

def _named(files: list[str]) -> str:
    files = sorted(files)
    more = f" and {len(files) - FILES_NAMED} more" if len(files) > FILES_NAMED else ""
    return ", ".join(files[:FILES_NAMED]) + more


def _patient_ids(ids_out: dict[str, dict[str, list[str]]],
                 ids_in: dict[str, dict[str, list[str]]]) -> Iterator[Finding]:
    tag = format_tag(PATIENT_ID, lower=True)
    for by_new in ids_out.values():
        if len(by_new) > 1:
            groups = sorted(sorted(files) for files in by_new.values())
            first = [files[0] for files in groups]
            yield Finding("patient-id-split", groups[0][0], tag,
                          f"one input patient's files carry {len(by_new)} output PatientIDs; "
                          f"one file of each: {_named(first)}")
    for by_old in ids_in.values():
        if len(by_old) > 1:
            groups = sorted(sorted(files) for files in by_old.values())
            first = [files[0] for files in groups]
            yield Finding("patient-ids-merged", groups[0][0], tag,
                          f"{len(by_old)} input patients share one output PatientID; "
                          f"one file of each: {_named(first)}")


# ---- date offsets -------------------------------------------------------------------------------

def _date(text: str) -> dt.date | None:
    try:
        return dt.date(int(text[0:4]), int(text[4:6]), int(text[6:8])) if re.fullmatch(r"\d{8}", text[:8]) else None
    except ValueError:
        return None


class Dated(NamedTuple):
    file: str
    path: str
    old: dt.date  # the input's date at the path
    new: dt.date  # the output's


def _dates(ds: Dataset, original: Dataset, rel: str) -> Iterator[Dated]:
    """Each date of the output (DA, the date of a DT) with a date in the input at the same path."""
    before = None
    for e in walk(ds):
        if e.vr not in ("DA", "DT") or is_empty(e.elem):
            continue
        if before is None:
            before = index(original)
        old = before.get(e.path)
        if old is None or is_empty(old):
            continue
        for new_text, old_text in zip(_values(e.elem.value), _values(old.value), strict=False):
            new, was = _date(new_text), _date(old_text)
            if new is not None and was is not None:
                yield Dated(rel, e.path, was, new)


def _date_offsets(dates: dict[str, list[Dated]]) -> Iterator[Finding]:
    # A dummy date (the Basic Profile's D: one value written for any date) is no shift, and its
    # "offset" differs with every input date. A shift is one-to-one within a patient, so an output
    # date that two different input dates of one patient became is a dummy, in every patient.
    sources: dict[tuple[str, dt.date], set[dt.date]] = defaultdict(set)
    for patient, dated in dates.items():
        for d in dated:
            sources[patient, d.new].add(d.old)
    dummies = {new for (_, new), olds in sources.items() if len(olds) > 1}
    for dated in dates.values():
        by_days: dict[int, list[Dated]] = defaultdict(list)
        for d in dated:
            if d.new not in dummies:
                by_days[(d.new - d.old).days].append(d)
        if len(by_days) < 2:
            continue
        usual = max(by_days, key=lambda days: (len(by_days[days]), -abs(days)))
        for days, places in sorted(by_days.items()):
            if days == usual:
                continue
            first: dict[str, str] = {}
            for d in places:
                first.setdefault(d.file, d.path)
            for rel, path in sorted(first.items()):
                yield Finding("date-offsets-differ", rel, path,
                              f"shifted by another number of days than most of this patient's dates "
                              f"({len(by_days)} different shifts among the patient's dates)")
