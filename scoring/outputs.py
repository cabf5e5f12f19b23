"""A de-identified output folder → what the checks look at, file by file.

In: the output folder. Out: an `OutputIndex`: for every readable DICOM file its SOP/Series UIDs,
every element rendered the way MIDI-B's scorer renders it, the MD5 of its raw PixelData bytes,
and findings for everything odd (not DICOM, no SOPInstanceUID, duplicate SOP Instance UIDs,
missing Modality/SOPClassUID/PatientID/Study/Series UID). Nothing here ever aborts on one file.
The run's own sidecars at the top of the folder (SIDECARS: audit.jsonl, mappings/, ...) are
neither outputs nor findings.

Rendering (pydicom's `str(value).strip()` wrapped in `<...>`): paths are
`<(gggg,eeee)>`, nested `<(0008,1140)>[<0000>]<(0008,1155)>`, private elements
`<(gggg,"CREATOR",ee)>` (creator upper-case, low byte of the element); tags in lower-case hex;
empty values `<>`; Pixel Data, Overlay Data and File Meta Information Version `<REMOVED>`;
a sequence as pydicom prints it (`<[]>` when it has no items).
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from deidc.dicom import format_tag

# What `deidc apply` writes at the top of an output folder next to the DICOM tree (files and
# folders; as runtime/batch/outdir.py's SIDECARS), plus the mappings of older layouts: not outputs
# to score, and not findings.
SIDECARS = frozenset({"audit.jsonl", "quarantine.csv", "review.jsonl", "mappings", ".deidc-run",
                      "uid_mapping.csv", "patid_mapping.csv"})
HIDDEN_VALUES = {0x7FE00010, 0x00020001}  # Pixel Data, File Meta Information Version
REQUIRED = ("Modality", "SOPClassUID", "PatientID", "StudyInstanceUID", "SeriesInstanceUID")


@dataclass
class OutputFile:
    path: Path
    sop_uid: str
    series_uid: str
    values: dict[str, str]
    pixel_md5: str | None


@dataclass
class OutputIndex:
    files: list[OutputFile] = field(default_factory=list)
    by_sop: dict[str, int] = field(default_factory=dict)
    present_tags: set[str] = field(default_factory=set)  # tag paths found in any output file
    findings: list[tuple[str, str]] = field(default_factory=list)  # (file, what is wrong)


def _label(elem) -> str:
    tag = elem.tag
    if tag.is_private and tag.element >= 0x1000 and getattr(elem, "private_creator", None):
        return f'({tag.group:04x},"{str(elem.private_creator).upper()}",{tag.element & 0xFF:02x})'
    return format_tag(tag, lower=True)


def render_values(ds: Dataset, out: dict[str, str] | None = None, prefix: str = "",
                  needed: set[str] | None = None) -> dict[str, str]:
    """Every element of `ds` (sequences at any depth) as `{tag path: '<value>'}`. A sequence
    renders as pydicom prints it (`[]` when empty, else its items' dump) — only when `needed`
    asks for it, since the dump is costly — and a placeholder otherwise."""
    out = {} if out is None else out
    for elem in ds:
        path = f"{prefix}<{_label(elem)}>"
        if elem.tag in HIDDEN_VALUES or (elem.tag.group & 0xFF00) == 0x6000 and elem.tag.element == 0x3000:
            out[path] = "<REMOVED>"
        elif elem.VR == "SQ":
            items = elem.value or []
            wanted = needed is None or path in needed
            out[path] = f"<{str(elem.value).strip()}>" if wanted else f"<{len(items)} items>"
            for index, item in enumerate(items):
                render_values(item, out, f"{path}[<{index:04d}>]", needed)
        else:
            out[path] = "<>" if elem.value is None else f"<{str(elem.value).strip()}>"
    return out


def _read(path: Path) -> Dataset | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path, force=True)
        except Exception:  # noqa: BLE001 — reported as a finding by the caller
            return None


def output_files(root: Path) -> list[Path]:
    """Every file under `root` except the run's own sidecars at its top (SIDECARS), sorted."""
    files: list[Path] = []
    for top in root.iterdir():
        if top.name in SIDECARS:
            continue
        if top.is_dir():
            files.extend(p for p in top.rglob("*") if p.is_file())
        elif top.is_file():
            files.append(top)
    return sorted(files)


def index_output(root: Path, needed: set[str] | None = None) -> OutputIndex:
    """Index every file under `root` but the sidecars; keep the values of the `needed` tag paths
    only (memory stays small on large sets), and note every path seen (for the consistency checks'
    absent rule)."""
    index = OutputIndex()
    for path in output_files(root):
        ds = _read(path)
        sop = str(ds.get("SOPInstanceUID", "") or "").strip() if ds is not None else ""
        if ds is None or not sop:
            index.findings.append((str(path), "not DICOM, or no SOPInstanceUID: ignored"))
            continue
        if sop in index.by_sop:
            first = index.files[index.by_sop[sop]].path
            index.findings.append((str(path), f"duplicate SOPInstanceUID {sop} (also {first}): ignored"))
            continue
        missing = [k for k in REQUIRED if not str(ds.get(k, "") or "").strip()]
        if missing:
            index.findings.append((str(path), f"missing {', '.join(missing)} (MIDI-B's scorer aborts on this)"))
        try:
            values = render_values(ds, needed=needed)
        except Exception as err:  # noqa: BLE001
            index.findings.append((str(path), f"could not read every element ({type(err).__name__}: {err})"))
            values = {}
        pixels = ds.get(0x7FE00010)  # the element (by keyword, get returns the value)
        md5 = hashlib.md5(pixels.value).hexdigest() if pixels is not None and pixels.value is not None else None
        index.present_tags.update(values)
        if needed is not None:
            values = {k: v for k, v in values.items() if k in needed}
        index.by_sop[sop] = len(index.files)
        index.files.append(OutputFile(path, sop, str(ds.get("SeriesInstanceUID", "") or ""), values, md5))
    return index
