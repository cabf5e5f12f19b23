"""The released files of an output folder, and, with the originals, which input each came from.

In: the output folder (and the input folder of the run). Out: the DICOM files of the release
(the run's sidecars — mappings/, audit.jsonl, quarantine.csv, review.jsonl, the run journal —
are not part of it), and output → input pairs, matched through mappings/uid_mapping.csv (the new
SOP Instance UID back to the old one) or, for a run that kept UIDs, the SOP Instance UID itself.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

from deidc.runtime.batch.outdir import SIDECARS

SOP_INSTANCE_UID = 0x00080018


def released_files(out: Path) -> list[Path]:
    """Every regular file of the release, in path order."""
    return sorted(p for p in out.rglob("*") if p.is_file() and not p.is_symlink()
                  and p.relative_to(out).parts[0] not in SIDECARS)


def uid_mapping(out: Path) -> dict[str, str]:
    """new UID → old UID, from the run's mappings (empty when there are none)."""
    path = out / "mappings" / "uid_mapping.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["id_new"]: row["id_old"] for row in csv.DictReader(fh)}


def sop_instance_uid(path: Path) -> str | None:
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=[SOP_INSTANCE_UID], force=True)
    except (InvalidDicomError, OSError, ValueError, EOFError):
        return None
    value = ds.get(SOP_INSTANCE_UID)
    return str(value.value).strip(" \x00") if value is not None and value.value else None


def pair_with_inputs(out: Path, files: list[Path], against: Path) -> dict[Path, Path]:
    """Output file → the input it was made from (files whose input is not found are left out)."""
    by_uid: dict[str, Path] = {}
    for path in sorted(p for p in against.rglob("*") if p.is_file()) if against.is_dir() else [against]:
        uid = sop_instance_uid(path)
        if uid is not None:
            by_uid.setdefault(uid, path)
    back = uid_mapping(out)
    pairs = {}
    for path in files:
        uid = sop_instance_uid(path)
        if uid is None:
            continue
        original = by_uid.get(back.get(uid, uid))
        if original is not None:
            pairs[path] = original
    return pairs
