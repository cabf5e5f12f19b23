"""Burned-in text, end to end: `deidc apply` with real OCR (rapidocr) on small synthetic images.

One CLI run (module fixture) reads four files — a grey US frame and a three-frame RGB US clip
with the patient's name, ID and birth date drawn into the pixels, a US image whose text holds no
PHI, and a CT the pixel rule does not apply to — and the tests check its output. Header regions
and JPEG baseline runs need no OCR.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deidc.runtime.audit import read_changes

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
ROWS, COLS = 256, 320

PATIENT = {"PatientName": "GALLOWAY^JOHN", "PatientID": "PID4711", "PatientBirthDate": "19510829"}
PHI_TEXT = {"name": "GALLOWAY, JOHN", "id": "ID: PID4711", "date": "DOB: 08/29/1951"}
LABEL = "LEFT KIDNEY"

RULES = """\
version 1
key = secret("DEIDC_KEY")
collect PatientName, PatientID, PatientBirthDate as phi
PatientName -> empty
PatientID -> pseudonym "P{hmac:8}"
PatientBirthDate -> remove
SOPInstanceUID, StudyInstanceUID, SeriesInstanceUID, FrameOfReferenceUID -> remap uid
pixels where BurnedInAnnotation = "YES" or Modality = US {
    ocr -> redact phi fuzzy 85
}
"""

AUDIT_NOTE = re.compile(r"frame (\d+) box \[(\d+), (\d+), (\d+), (\d+)\] matched (\w+) score ([\d.]+)")


def font() -> ImageFont.ImageFont:
    if FONT_FILE.is_file():
        return ImageFont.truetype(str(FONT_FILE), 16)
    return ImageFont.load_default(size=16)


def run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DEIDC_KEY"}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    return subprocess.run([sys.executable, "-m", "deidc", "apply", *map(str, args), "--insecure-demo-key",
                           "--workers", "1", "--no-progress"],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=180)


def image_dataset(pixels: np.ndarray, *, modality: str = "US", description: str, patient: dict,
                  burned_in: str | None = "YES") -> Dataset:
    """An uncompressed 8-bit dataset from F×R×C×S pixels (S = 1 grey, 3 RGB interleaved)."""
    frames, rows, cols, samples = pixels.shape
    sop_class = US_MULTIFRAME if frames > 1 else US_IMAGE
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.SeriesDescription = modality, description
    for keyword, value in patient.items():
        setattr(ds, keyword, value)
    if burned_in is not None:
        ds.BurnedInAnnotation = burned_in
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameIncrementPointer = 0x00181063
        ds.FrameTime = 33.3
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()
    return ds


def us_frame(seed: int, texts: dict[str, tuple[tuple[int, int], str]], rgb: bool
             ) -> tuple[np.ndarray, dict[str, tuple[int, int, int, int]]]:
    """A speckled frame with a brighter 'organ' and the texts drawn; (R×C×S pixels, drawn boxes)."""
    rng = np.random.default_rng(seed)
    grey = rng.integers(20, 60, (ROWS, COLS)).astype(np.uint8)
    yy, xx = np.mgrid[:ROWS, :COLS]
    organ = (xx - 215) ** 2 + (yy - 140) ** 2 < 48 ** 2
    grey[organ] = rng.integers(90, 150, int(organ.sum()))
    picture = Image.fromarray(grey).convert("RGB" if rgb else "L")
    draw = ImageDraw.Draw(picture)
    boxes = {}
    for key, (xy, text) in texts.items():
        colour = ((255, 255, 0) if key == "name" else (255, 255, 255)) if rgb else 255
        draw.text(xy, text, fill=colour, font=font())
        boxes[key] = tuple(draw.textbbox(xy, text, font=font()))
    pixels = np.asarray(picture, dtype=np.uint8)
    return (pixels if rgb else pixels[..., None]), boxes


def phi_texts(dy: int = 0) -> dict[str, tuple[tuple[int, int], str]]:
    return {"name": ((10, 8 + dy), PHI_TEXT["name"]), "id": ((10, 40 + dy), PHI_TEXT["id"]),
            "date": ((10, 72 + dy), PHI_TEXT["date"]), "label": ((180, 222), LABEL)}


@dataclass
class Case:
    pixels: np.ndarray  # F×R×C×S as written
    boxes: list[dict[str, tuple[int, int, int, int]]]  # drawn text boxes, per frame
    source: Dataset
    output: Dataset | None = None
    audit: list[dict] = field(default_factory=list)


@dataclass
class UsRun:
    run: subprocess.CompletedProcess
    out: Path
    preview: Path
    cases: dict[str, Case]
    quarantine: list[list[str]]


@pytest.fixture(scope="module")
def us_run(tmp_path_factory) -> UsRun:
    root = tmp_path_factory.mktemp("pixels_e2e")
    source = root / "in"
    source.mkdir()
    cases: dict[str, Case] = {}

    grey, boxes = us_frame(1, phi_texts(), rgb=False)
    cases["grey"] = Case(grey[None], [boxes], image_dataset(grey[None], description="grey", patient=PATIENT))

    frames, frame_boxes = [], []
    for index in range(3):  # different speckle and text position in every frame
        pixels, boxes = us_frame(10 + index, phi_texts(dy=5 * index), rgb=True)
        frames.append(pixels)
        frame_boxes.append(boxes)
    clip = np.stack(frames)
    cases["rgb"] = Case(clip, frame_boxes, image_dataset(clip, description="rgb", patient=PATIENT))

    other = {"PatientName": "NGUYEN^ANNA", "PatientID": "Q88123", "PatientBirthDate": "19700101"}
    pixels, boxes = us_frame(5, {"label": ((180, 222), LABEL), "gain": ((10, 8), "GAIN 45"),
                                 "depth": ((10, 40), "DEPTH 16 cm")}, rgb=False)
    cases["no phi"] = Case(pixels[None], [boxes], image_dataset(pixels[None], description="no phi", patient=other))

    for name, case in cases.items():
        case.source.save_as(source / f"{name.replace(' ', '_')}.dcm", enforce_file_format=True)
    shutil.copyfile(TEST_FILES / "CT_small.dcm", source / "ct.dcm")
    ct = pydicom.dcmread(source / "ct.dcm")
    assert "BurnedInAnnotation" not in ct and ct.Modality == "CT"
    cases["ct"] = Case(np.empty(0), [], ct)

    rules = root / "rules.deid"
    rules.write_text(RULES, encoding="utf-8")
    out, preview = root / "out", root / "preview"
    run = run_cli(rules, source, "-o", out, "--preview", preview, cwd=root)

    by_description = {}
    for path in out.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        by_description["ct" if ds.Modality == "CT" else str(ds.SeriesDescription)] = ds
    for name, case in cases.items():
        case.output = by_description.get(name)
    audit_path = out / "audit.jsonl"
    lines = list(read_changes(audit_path)) if audit_path.exists() else []
    for entry in lines:
        name = Path(entry["file"]).stem.replace("_", " ")
        cases[name].audit.append(entry)
    with (out / "quarantine.csv").open(newline="") as fh:
        quarantine = list(csv.reader(fh))[1:]
    return UsRun(run, out, preview, cases, quarantine)


def out_frames(case: Case) -> np.ndarray:
    ds = case.output
    return np.frombuffer(ds.PixelData, dtype=np.uint8).reshape(case.pixels.shape)


def redaction_boxes(case: Case) -> list[tuple[int, tuple[int, int, int, int], float, str]]:
    """(frame, box, score, kind) of every redacted box, from the audit."""
    found = []
    for entry in case.audit:
        if entry["action"] != "redact-pixels":
            continue
        m = AUDIT_NOTE.fullmatch(entry.get("note", ""))
        assert m, entry
        found.append((int(m.group(1)), tuple(map(int, m.group(2, 3, 4, 5))), float(m.group(7)), m.group(6)))
    return found


def test_run_writes_every_file(us_run):
    assert us_run.run.returncode == 0, us_run.run.stderr
    assert us_run.quarantine == []
    assert all(case.output is not None for case in us_run.cases.values()), us_run.run.stdout


@pytest.mark.parametrize("name", ["grey", "rgb"])
def test_burned_in_phi_is_black_in_every_frame(us_run, name):
    case = us_run.cases[name]
    frames = out_frames(case)
    for index, boxes in enumerate(case.boxes):
        for kind in ("name", "id", "date"):
            x0, y0, x1, y1 = boxes[kind]
            assert not frames[index, y0:y1, x0:x1].any(), (name, index, kind)


@pytest.mark.parametrize("name", ["grey", "rgb"])
def test_only_the_audited_boxes_changed(us_run, name):
    case = us_run.cases[name]
    frames = out_frames(case)
    boxes = redaction_boxes(case)
    assert {f for f, *_ in boxes} == set(range(len(case.boxes)))
    changed = np.zeros(frames.shape[:3], dtype=bool)
    for frame, (x0, y0, x1, y1), _, _ in boxes:
        changed[frame, y0:y1, x0:x1] = True
        assert not frames[frame, y0:y1, x0:x1].any()
    np.testing.assert_array_equal(frames[~changed], case.pixels[~changed])
    for index, drawn in enumerate(case.boxes):  # the non-PHI label is left as drawn
        x0, y0, x1, y1 = drawn["label"]
        np.testing.assert_array_equal(frames[index, y0 - 2:y1 + 2, x0 - 2:x1 + 2],
                                      case.pixels[index, y0 - 2:y1 + 2, x0 - 2:x1 + 2])


@pytest.mark.parametrize("name", ["grey", "rgb"])
def test_pixel_format_is_kept(us_run, name):
    source, output = us_run.cases[name].source, us_run.cases[name].output
    for keyword in ("PhotometricInterpretation", "BitsAllocated", "BitsStored", "SamplesPerPixel",
                    "Rows", "Columns"):
        assert output[keyword].value == source[keyword].value, keyword
    assert output.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID
    assert output.get("NumberOfFrames") == source.get("NumberOfFrames")
    assert output.get("PlanarConfiguration") == source.get("PlanarConfiguration")
    assert len(output.PixelData) == len(source.PixelData)
    assert output.PixelData != source.PixelData


@pytest.mark.parametrize("name", ["grey", "rgb"])
def test_audit_lists_every_box_with_frame_and_kind(us_run, name):
    case = us_run.cases[name]
    boxes = redaction_boxes(case)
    rule_line = RULES.splitlines().index('pixels where BurnedInAnnotation = "YES" or Modality = US {') + 1
    assert {e["rule"].rsplit(":", 1)[1] for e in case.audit if e["action"] == "redact-pixels"} == {str(rule_line)}
    assert {e["path"] for e in case.audit if e["action"] == "redact-pixels"} == {"(7fe0,0010)"}
    for frame in range(len(case.boxes)):
        kinds = {kind for f, _, _, kind in boxes if f == frame}
        assert kinds == {"name", "id", "date"}, (frame, boxes)
    audited = json.dumps(case.audit).upper()  # where and what kind, never the words read
    assert not [text for text in [*PHI_TEXT.values(), LABEL] if text.upper() in audited]


def test_previews_are_written_for_redacted_frames_only(us_run):
    pngs = sorted(p.name for p in us_run.preview.glob("*.png"))
    expected = sorted([f"{us_run.cases['grey'].output.SOPInstanceUID}_frame0000.png"]
                      + [f"{us_run.cases['rgb'].output.SOPInstanceUID}_frame{i:04d}.png" for i in range(3)])
    assert pngs == expected
    with Image.open(us_run.preview / expected[0]) as picture:
        assert picture.size == (COLS, ROWS)


def test_no_original_identifier_in_the_output_header(us_run):
    for name in ("grey", "rgb"):
        output = us_run.cases[name].output
        assert output["PatientName"].is_empty and "PatientBirthDate" not in output
        assert output.PatientID != PATIENT["PatientID"]


def test_image_without_matching_text_keeps_its_pixel_bytes(us_run):
    case = us_run.cases["no phi"]
    assert case.output.PixelData == case.source.PixelData
    assert not redaction_boxes(case)
    assert case.output.SOPInstanceUID != case.source.SOPInstanceUID  # the header was de-identified


def test_ct_outside_the_rule_condition_keeps_its_pixel_bytes(us_run):
    case = us_run.cases["ct"]
    assert case.output.PixelData == case.source.PixelData
    assert not redaction_boxes(case)


# ---- header regions --------------------------------------------------------------------------


def test_header_regions_fill_everything_outside_the_ultrasound_regions(tmp_path):
    rng = np.random.default_rng(7)
    pixels = rng.integers(1, 256, (1, ROWS, COLS, 1), dtype=np.uint8)
    ds = image_dataset(pixels, description="regions", patient=PATIENT)
    items = []
    for x0, y0, x1, y1 in ((40, 30, 179, 229), (200, 50, 299, 149)):
        item = Dataset()
        item.RegionSpatialFormat, item.RegionDataType, item.RegionFlags = 1, 1, 0
        item.RegionLocationMinX0, item.RegionLocationMinY0 = x0, y0
        item.RegionLocationMaxX1, item.RegionLocationMaxY1 = x1, y1
        items.append(item)
    ds.SequenceOfUltrasoundRegions = Sequence(items)
    (tmp_path / "in").mkdir()
    ds.save_as(tmp_path / "in" / "us.dcm", enforce_file_format=True)
    rules = tmp_path / "rules.deid"
    rules.write_text('version 1\nkey = secret("DEIDC_KEY")\nSOPInstanceUID -> remap uid\n'
                     "pixels where Modality = US { header regions -> fill 0 }\n", encoding="utf-8")
    run = run_cli(rules, tmp_path / "in", "-o", tmp_path / "out", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    [path] = (tmp_path / "out").rglob("*.dcm")
    output = pydicom.dcmread(path)
    frame = np.frombuffer(output.PixelData, dtype=np.uint8).reshape(ROWS, COLS)
    inside = np.zeros((ROWS, COLS), dtype=bool)
    inside[30:230, 40:180] = True
    inside[50:150, 200:300] = True
    assert not frame[~inside].any()
    np.testing.assert_array_equal(frame[inside], pixels[0, ..., 0][inside])
    assert len(output.SequenceOfUltrasoundRegions) == 2


# ---- JPEG baseline: a redaction that cannot be written back ----------------------------------


@pytest.fixture(scope="module")
def jpeg_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pixels_jpeg")
    (root / "in").mkdir()
    shutil.copyfile(TEST_FILES / "SC_rgb_jpeg_dcmtk.dcm", root / "in" / "sc.dcm")
    rules = root / "rules.deid"
    rules.write_text('version 1\nkey = secret("DEIDC_KEY")\nSOPInstanceUID -> remap uid\n'
                     "pixels { region 0,0,10,10 -> fill 0 }\n", encoding="utf-8")
    run = run_cli(rules, root / "in", "-o", root / "out", cwd=root)
    with (root / "out" / "quarantine.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    return run, root / "out", rows


def test_jpeg_baseline_needing_redaction_is_quarantined(jpeg_run):
    run, out, rows = jpeg_run
    assert run.returncode == 3, run.stderr  # finished, with an input quarantined
    assert [Path(file).name for file, _ in rows] == ["sc.dcm"]
    assert not list(out.rglob("*.dcm"))


def test_jpeg_baseline_quarantine_names_the_transfer_syntax(jpeg_run):
    _, _, rows = jpeg_run
    [(_, reason)] = rows
    assert "JPEG Baseline" in reason and "AttributeError" not in reason


# ---- JPEG baseline: lossy re-encoding only when the rules allow it -------------------------------


def test_jpeg_baseline_is_reencoded_when_the_rules_allow_lossy(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(TEST_FILES / "SC_rgb_jpeg_dcmtk.dcm", source / "jpeg.dcm")
    rules = tmp_path / "lossy.deid"
    rules.write_text("version 1\npixels { region 0,0,20,10 -> fill 0; allow lossy quality 95 }\n")
    run = run_cli(rules, source, "-o", tmp_path / "out", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    [written] = list((tmp_path / "out").rglob("*.dcm"))
    ds, original = pydicom.dcmread(written), pydicom.dcmread(source / "jpeg.dcm")
    assert ds.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID  # still JPEG baseline
    assert ds.LossyImageCompression == "01"
    pixels, before = ds.pixel_array.astype(int), original.pixel_array.astype(int)
    assert pixels[:10, :20].max() <= 16  # the region is black (JPEG leaves a little ringing)
    assert np.abs(pixels[20:, 20:] - before[20:, 20:]).mean() < 2  # quality 95 keeps the rest
    audit = list(read_changes(tmp_path / "out" / "audit.jsonl"))
    assert any(line.get("action") == "reencode-lossy" and "quality 95" in line["note"] for line in audit)


def test_lossy_quality_out_of_range_is_a_compile_error(tmp_path):
    rules = tmp_path / "bad.deid"
    rules.write_text("version 1\npixels { region 0,0,20,10 -> fill 0; allow lossy quality 20 }\n")
    run = subprocess.run([sys.executable, "-m", "deidc", "compile", str(rules)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=60)
    assert run.returncode == 2
    assert f"{rules}:2:" in run.stderr and "DC033" in run.stderr
