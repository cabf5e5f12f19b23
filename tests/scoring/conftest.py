"""Shared fixtures for the scoring tests: tiny answer keys and output folders built in tmp_path.

`case` is a `ScoringCase`: declare key rows (input instances with their checks) and, for each,
the de-identified output file the scorer should find (or none: a *missing file*); then score
in-process (`case.run()`, `case.statuses()`) or through the CLI (`case.cli(...)`).

Output files start from pydicom's shipped CT_small.dcm (read from the package folder, never
through get_testdata_file), private elements dropped; each gets the SOP/Series/Study UIDs and
PatientID the mappings give for its key row, plus the attribute values a test sets.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from deidc.runtime.pixels.ocr import OcrWord
from deidc.scoring import ScoringRun, run_scoring
from deidc.scoring.report import Score, score

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
CT_SMALL = TEST_FILES / "CT_small.dcm"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"

ABSENT = object()  # an attribute value meaning: delete the attribute from the output file

_DEFAULT_CATEGORY = {"hipaa": {"z": None, "m": None}, "dicom": {"p15": None, "iod": None, "safe": None},
                     "tcia": {"ptkb": None, "p15": None, "rev": None}, "prev_cat": None}


def wrap(text: str | None) -> str | None:
    """A key string: `<text>`; None stays null."""
    return None if text is None else f"<{text}>"


def check(action: str, tag: str | None = None, text: str | None = None, value: str | None = None,
          name: str | None = None, category: dict | None = None) -> dict:
    """One answer-key check in MIDI-B's shape.

    tag: `(gggg,eeee)` (wrapped to `<(gggg,eeee)>`) or a full tag path already in `<...>` form
    (nested or private). text/value: action_text/value without the `<>` (None → null).
    category: overrides merged into answer_category_v2, e.g. {"hipaa": {"z": "HIPAA-C"}}.
    """
    tag_ds = None if tag is None else (tag if tag.startswith("<") else f"<{tag.lower()}>")
    cat = copy.deepcopy(_DEFAULT_CATEGORY)
    for part, sub in (category or {}).items():
        cat[part].update(sub)
    return {"action": f"<{action}>", "action_text": wrap(text), "value": wrap(value),
            "answer_category_v2": cat, "tag": tag_ds, "tag_ds": tag_ds,
            "tag_name": wrap(name if name is not None else (None if tag is None else f"Tag {tag}")),
            "scope": "<Instance>"}


def box_check(text: str, top_left: tuple[int, int], bottom_right: tuple[int, int]) -> dict:
    """A pixels_hidden check: the burned-in `text` inside the box (x = column, y = row)."""
    box = {"text": text, "top_left": list(top_left), "bottom_right": list(bottom_right), "font": "DejaVuSans"}
    return check("pixels_hidden", text=json.dumps(box))


def new_uid(old: str) -> str:
    """The de-identified UID the test mapping gives an original UID (1.x → 2.x)."""
    return "2." + old.split(".", 1)[1]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class FakeOcr:
    """An OcrEngine that 'reads' fixed text from any non-flat image; counts its calls."""
    name = "fake"

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.calls = 0

    def read(self, image: np.ndarray, detect: bool = True) -> list[OcrWord]:
        self.calls += 1
        h, w = image.shape[:2]
        return [OcrWord(self.text, (0, 0, w, h), 0.99)] if self.text else []


def set_pixels(ds: Dataset, image: np.ndarray) -> None:
    """Replace the pixel data by a 2-D uint8 grey image (native, uncompressed)."""
    ds.Rows, ds.Columns = image.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = np.ascontiguousarray(image, dtype=np.uint8).tobytes()


@dataclass
class Instance:
    """One key row and the output file written for it (path None: a missing file)."""
    number: int
    sop: str
    series: str
    study: str
    patient: str
    checks: list[dict]
    path: Path | None = None

    @property
    def new_sop(self) -> str:
        return new_uid(self.sop)


@dataclass
class ScoringCase:
    """Builder of one scoring scenario in `root`; test modules reach the helpers through it
    (pytest's importlib mode cannot import conftest), e.g. `case.check(...)`, `case.ABSENT`."""
    root: Path
    instances: list[Instance] = field(default_factory=list)
    uid_map: dict[str, str] = field(default_factory=dict)
    patid_map: dict[str, str] = field(default_factory=dict)
    _base: Dataset | None = field(default=None, repr=False)

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def key_path(self) -> Path:
        return self.root / "answer_key.db"

    check = staticmethod(check)
    box_check = staticmethod(box_check)
    new_uid = staticmethod(new_uid)
    md5 = staticmethod(md5)
    set_pixels = staticmethod(set_pixels)
    ABSENT = ABSENT
    FakeOcr = FakeOcr

    # ---- building -------------------------------------------------------------------------
    def base(self) -> Dataset:
        if self._base is None:
            ds = pydicom.dcmread(CT_SMALL)
            ds.remove_private_tags()
            self._base = ds
        return copy.deepcopy(self._base)

    def instance(self, checks: list[dict] = (), output: dict[str, Any] | None = None, *,
                 missing: bool = False, series: str = "1.3.1", study: str = "1.4.1", patient: str = "PAT1",
                 edit: Callable[[Dataset], None] | None = None, pixels: np.ndarray | None = None,
                 sop: str | None = None, file_name: str | None = None) -> Instance:
        """A key row with `checks`; unless `missing`, its output file with `output` attributes set
        (keyword → value; ABSENT deletes), then `edit(ds)` for anything else."""
        number = len(self.instances) + 1
        inst = Instance(number, sop or f"1.2.{number}", series, study, patient, list(checks))
        self.instances.append(inst)
        for old in (inst.sop, series, study):
            self.uid_map[old] = new_uid(old)
        self.patid_map[patient] = f"ANON-{patient}"
        if not missing:
            inst.path = self.write_output(inst, output or {}, edit, pixels, file_name)
        return inst

    def write_output(self, inst: Instance, output: dict[str, Any], edit, pixels, file_name) -> Path:
        ds = self.base()
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.SOPInstanceUID = inst.new_sop
        ds.file_meta.MediaStorageSOPInstanceUID = inst.new_sop
        ds.SeriesInstanceUID = self.uid_map[inst.series]
        ds.StudyInstanceUID = self.uid_map[inst.study]
        ds.PatientID = self.patid_map[inst.patient]
        if pixels is not None:
            set_pixels(ds, pixels)
        for keyword, value in output.items():
            if value is ABSENT:
                if keyword in ds:
                    delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        if edit is not None:
            edit(ds)
        path = self.out / (file_name or f"{inst.number:04d}.dcm")
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=False)
        return path

    def write_key(self) -> Path:
        if self.key_path.exists():
            self.key_path.unlink()
        with sqlite3.connect(self.key_path) as db:
            db.execute('CREATE TABLE answer_data ("index" INTEGER, "group" INTEGER, "Modality" TEXT, '
                       '"SOPClassUID" TEXT, "PatientID" TEXT, "StudyInstanceUID" TEXT, '
                       '"SeriesInstanceUID" TEXT, "SOPInstanceUID" TEXT, "Digest" TEXT, "AnswerData" TEXT)')
            for i, inst in enumerate(self.instances):
                data = json.dumps({str(n): c for n, c in enumerate(inst.checks)})
                db.execute("INSERT INTO answer_data VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (i, 1, "CT", CT_IMAGE_STORAGE, inst.patient, inst.study, inst.series, inst.sop,
                            md5(inst.sop.encode()), data))
        db.close()
        return self.key_path

    def write_mappings(self) -> tuple[Path, Path]:
        folder = self.out / "mappings"
        folder.mkdir(parents=True, exist_ok=True)
        paths = folder / "uid_mapping.csv", folder / "patid_mapping.csv"
        for path, mapping in zip(paths, (self.uid_map, self.patid_map), strict=True):
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["id_old", "id_new"])
                writer.writerows(sorted(mapping.items()))
        return paths

    # ---- scoring --------------------------------------------------------------------------
    def run(self, ocr=None) -> ScoringRun:
        """Score in-process, with the mappings as given (not read back from the CSVs)."""
        self.out.mkdir(parents=True, exist_ok=True)
        self.write_key()
        self.write_mappings()
        return run_scoring(self.out, self.key_path, dict(self.uid_map), dict(self.patid_map), ocr)

    def statuses(self, ocr=None) -> list[int]:
        """PASS/FAIL/BLANK of every check, in key order."""
        return self.run(ocr).judgement.status.tolist()

    def status_of(self, one_check: dict, output: dict[str, Any] | None = None, ocr=None, **kwargs) -> int:
        """Status of a single check on a single instance (kwargs as for `instance`)."""
        self.instance([one_check], output, **kwargs)
        return self.statuses(ocr)[0]

    def scores(self, ocr=None) -> tuple[ScoringRun, Score, Score]:
        run = self.run(ocr)
        return run, score(run.key, run.judgement, "series"), score(run.key, run.judgement, "instance")

    def cli(self, *args: str, ocr: str = "none", report: str = "report.csv") -> subprocess.CompletedProcess:
        """`python -m deidc score OUT KEY --ocr none --report ROOT/report.csv ARGS...`."""
        self.out.mkdir(parents=True, exist_ok=True)
        self.write_key()
        self.write_mappings()
        command = [sys.executable, "-m", "deidc", "score", str(self.out), str(self.key_path),
                   "--ocr", ocr, "--report", str(self.root / report), *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=self.root, timeout=120)


@pytest.fixture
def case(tmp_path) -> ScoringCase:
    return ScoringCase(tmp_path)
