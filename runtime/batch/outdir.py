"""The output folder: what deidc puts in it, when an existing one may be reused or cleared, and the
sidecars written at the end of a run.

In: an output folder and the user's choice (`--overwrite`, `--resume`). Out: a refusal that says
why, or a folder ready for the run; at the end, mappings/, quarantine.csv, audit.jsonl (and review.jsonl)
written atomically (temporary name, fsync, rename) with mode 0600 — they hold original
identifiers — and a release tree holding exactly the files this run released.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydicom.dataset import Dataset

from deidc.runtime.batch.journal import JOURNAL, RUN_DIR

SIDECARS = frozenset({"mappings", "audit.jsonl", "quarantine.csv", "review.jsonl", RUN_DIR})

# Bytes kept as they are in a path component; every other byte is percent-escaped (`%` too).
_SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._^-")
_UNSAFE = re.compile(r"[^A-Za-z0-9._^-]")
MAX_COMPONENT = 128
# Names the batch itself uses at the top of the output folder; a PatientID must not take them.
RESERVED_NAMES = SIDECARS


def check_output_folder(out: Path, overwrite: bool, resume: bool) -> str | None:
    """Why `out` cannot take this run, or None. With --overwrite a folder that holds only an
    earlier deidc output is cleared first (`clear_previous_output`); anything else is refused, so
    no stale file survives and nothing deidc did not write is deleted."""
    if out.exists() and not out.is_dir():
        return f"output {out} exists and is not a folder"
    if resume:
        if not (out / RUN_DIR / JOURNAL).is_file():
            return f"output {out} holds no interrupted deidc run to resume; run without --resume"
        return None
    if not out.exists() or not any(out.iterdir()):
        return None
    if not overwrite:
        if (out / RUN_DIR / JOURNAL).is_file():
            return (f"output {out} holds an interrupted run: continue it with --resume (same command line), "
                    "or start over with --overwrite")
        return f"output {out} is not empty; use --overwrite to replace an earlier deidc output, or choose a new folder"
    foreign = next(_foreign_files(out), None)
    if foreign is not None:
        return (f"--overwrite refused: {foreign} was not written by deidc, and would be deleted; "
                "choose a new output folder")
    return None


def _foreign_files(out: Path) -> Iterator[Path]:
    """Files in `out` that a deidc run does not write (release tree: only .dcm files)."""
    for entry in out.iterdir():
        if entry.name in SIDECARS:
            continue
        if entry.is_symlink() or not entry.is_dir():
            yield entry
            continue
        for folder, dirs, files in os.walk(entry):
            for name in files:
                if not name.endswith(".dcm") or os.path.islink(os.path.join(folder, name)):
                    yield Path(folder, name)
            for name in dirs:
                if os.path.islink(os.path.join(folder, name)):
                    yield Path(folder, name)


def clear_previous_output(out: Path) -> None:
    """Remove an earlier deidc output (checked by `check_output_folder` to hold nothing else)."""
    for entry in out.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def sweep_strays(out: Path, released: set[str]) -> int:
    """Delete release-tree files that are not `released` (relative paths) — what a killed run
    renamed into place but never journaled — and folders left empty; return how many files."""
    removed = 0
    for entry in out.iterdir():
        if entry.name in SIDECARS or not entry.is_dir():
            continue
        for folder, _, files in os.walk(entry, topdown=False):
            for name in files:
                path = Path(folder, name)
                if str(path.relative_to(out)) not in released:
                    path.unlink()
                    removed += 1
            if not os.listdir(folder):
                os.rmdir(folder)
    return removed


def write_sidecars(out: Path, uid_map: dict[str, str], patid_map: dict[str, str],
                   quarantine_rows: Iterable[tuple[str, str]], audit_texts: Iterable[str],
                   reviews: Iterable[dict] = ()) -> None:
    """mappings/uid_mapping.csv, mappings/patid_mapping.csv, quarantine.csv, audit.jsonl and
    review.jsonl (the detections of `clean ... detect` a curator should check; it holds original
    words, so it is 0600 like the others, and written only when there is something to review)."""
    temp = out / RUN_DIR
    (out / "mappings").mkdir(mode=0o700, exist_ok=True)
    os.chmod(out / "mappings", 0o700)  # its listing too: only the run's owner may see it
    with atomic_text(out / "mappings" / "uid_mapping.csv", temp) as fh:
        _csv(fh, ["id_old", "id_new"], sorted(uid_map.items()))
    with atomic_text(out / "mappings" / "patid_mapping.csv", temp) as fh:
        _csv(fh, ["id_old", "id_new"], sorted(patid_map.items()))
    with atomic_text(out / "quarantine.csv", temp) as fh:
        _csv(fh, ["file", "reason"], quarantine_rows)
    with atomic_text(out / "audit.jsonl", temp) as fh:
        for text in audit_texts:
            fh.write(text)
    review_lines = [json.dumps(item, ensure_ascii=False) + "\n" for item in reviews]
    if review_lines:
        with atomic_text(out / "review.jsonl", temp) as fh:
            fh.writelines(review_lines)


def _csv(fh: io.TextIOBase, header: list[str], rows: Iterable) -> None:
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


@contextmanager
def atomic_text(path: Path, temp: Path) -> Iterator[io.TextIOBase]:
    """A text file written under a temporary name (0600) in the folder `temp` (the run folder:
    never where a reader of the output would take it for output, and removed with the run folder
    if a kill leaves it), fsynced, then renamed into place. Input paths that are not UTF-8 are
    written back as their own bytes (surrogateescape)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp.mkdir(mode=0o700, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".partial", dir=temp)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def safe_component(text: str, fallback: str) -> str:
    """A value made safe as one path component, injectively: distinct values (after the
    padding DICOM ignores, spaces and NULs at either end) give distinct components. Every UTF-8
    byte outside [A-Za-z0-9._^-] is percent-escaped (`%` included), a leading `.` and a reserved
    name get their first character escaped, and a component longer than 128 characters becomes a
    prefix, `+` (which no escaped value holds) and the sha256 of the whole value. UIDs and
    ordinary IDs are left as they are."""
    value = text.strip(" \x00")
    if not value:
        return fallback
    if _UNSAFE.search(value) is None:  # the common case: nothing to escape
        escaped = value
    else:
        escaped = "".join(chr(b) if b in _SAFE_BYTES else f"%{b:02X}" for b in value.encode("utf-8", "surrogatepass"))
    if escaped.startswith(".") or escaped in RESERVED_NAMES or escaped == fallback:
        escaped = f"%{ord(escaped[0]):02X}{escaped[1:]}"  # no hidden, reserved or fallback names
    if len(escaped) <= MAX_COMPONENT:
        return escaped
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    prefix = escaped[:MAX_COMPONENT - len(digest) - 1]
    cut = prefix.rfind("%", len(prefix) - 2)  # do not end inside an escape
    return f"{prefix[:cut] if cut >= 0 else prefix}+{digest}"


def output_relpath(ds: Dataset) -> Path:
    """<PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm (new values)."""
    return Path(
        safe_component(str(ds.get("PatientID", "") or ""), "no-patient-id"),
        safe_component(str(ds.get("StudyInstanceUID", "") or ""), "no-study-uid"),
        safe_component(str(ds.get("SeriesInstanceUID", "") or ""), "no-series-uid"),
        safe_component(str(ds.get("SOPInstanceUID", "") or ""), "no-sop-uid") + ".dcm",
    )
