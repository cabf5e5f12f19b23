"""Burned-in text redaction, unit level: matching, pixel layouts, regions and box planning.

OCR is a `FakeOcr` here (words chosen by the test, calls counted); the real engine runs in
tests/e2e/test_pixels_e2e.py.
"""
from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, RLELossless, generate_uid

from deidc.compiler.plan import HeaderRegionsFillOp, OcrRedactOp, Origin, PixelRule, RedactAllTextOp, RegionFillOp
from deidc.runtime.batch.key_sources import resolve_keys
from deidc.runtime.interpret.walk import DatasetDeidentifier
from deidc.runtime.pixels.burned_in import (
    PixelsNotWritable,
    RedactedBox,
    apply_boxes,
    candidates,
    match,
    outside_regions,
    plan_boxes,
    read_frames,
    ultrasound_regions,
    write_frames,
)
from deidc.runtime.pixels.ocr import OcrWord
from deidc.runtime.text.phi import build_phi

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
ORIGIN = Origin("test.deid", 1, 1, "pixels")

class FakeOcr:
    """The OcrEngine protocol with fixed answers: `words`, or `reader(image)`; counts calls."""

    name = "fake"

    def __init__(self, words=(), reader=None):
        self.words = list(words)
        self.reader = reader
        self.images: list[np.ndarray] = []

    def read(self, image: np.ndarray, detect: bool = True) -> list[OcrWord]:
        self.images.append(np.array(image, copy=True))
        return list(self.reader(image) if self.reader else self.words)


def word(text: str, box: tuple[int, int, int, int]) -> OcrWord:
    return OcrWord(text, box, 0.99)


PHI = build_phi([("name", "GALLOWAY^JOHN"), ("id", "PID4711"), ("date", "19510829"), ("name", "LI^X")])
CANDS = candidates(PHI)


# ---- match -----------------------------------------------------------------------------------

# (OCR text, kind it must match, or None: must not match) at the default threshold 0.85
MATCH_TABLE = [
    ("GALLOWAY", "name"),            # exact word
    ("GALLOWAY JOHN", "name"),       # LAST^FIRST as OCR reads it
    ("Galloway, John", "name"),      # case and punctuation
    ("JOHN GALLOWAY", "name"),       # First Last
    ("GALL0WAY", "name"),            # OCR-like variant: 0 for O (similarity 0.875)
    ("GALLOWAV", "name"),            # V for Y
    ("DOB:08/29/1951", "date"),      # merged token: partial_ratio, OCR text longer
    ("08/29/1951", "date"),
    ("29.08.1951", "date"),
    ("1951-08-29", "date"),
    ("ID: PID4711", "id"),           # merged token
    ("PID4711", "id"),
    ("LI", "name"),                  # two-character candidate, exact
    ("Li", "name"),
    ("L1", None),                    # two-character candidates match exactly or not at all
    ("X", None),                     # one-character candidates are ignored
    ("120 KV", None),
    ("LEFT", None),
    ("LEFT KIDNEY", None),
    ("RIGHT", None),
    ("LIVER", None),                 # contains LI, but two-character candidates are exact only
    ("GAIN 45", None),
    ("DEPTH 16", None),
    ("MI 0.3", None),
    ("TIS 0.4", None),
    ("4.5 cm", None),
    ("C5-1", None),
    ("12/31/2020", None),            # another date
    ("08/30/1951", None),            # one day off: not this patient's date
    ("GALLO", None),                 # OCR shorter than the candidate: plain ratio only (0.77)
    ("GALL0VVAY", None),             # too far (two edits and a length change)
]


def test_match_recall_and_precision_table():
    hits = {text: match(text, CANDS, 0.85) for text, _ in MATCH_TABLE}
    wrong_kind = [(t, hits[t]) for t, kind in MATCH_TABLE if kind and (hits[t] is None or hits[t][0] != kind)]
    false_hits = [(t, hits[t]) for t, kind in MATCH_TABLE if kind is None and hits[t] is not None]
    phi_rows = [t for t, kind in MATCH_TABLE if kind]
    true_hits = sum(hits[t] is not None for t in phi_rows)
    recall, precision = true_hits / len(phi_rows), true_hits / (true_hits + len(false_hits))
    assert not wrong_kind, wrong_kind
    assert not false_hits, false_hits
    assert (recall, precision) == (1.0, 1.0)


def test_match_scores():
    assert match("GALLOWAY", CANDS, 0.85) == ("name", 1.0)
    assert match("GALLOWAY JOHN", CANDS, 0.85) == ("name", 1.0)
    kind, score = match("GALL0WAY", CANDS, 0.85)
    assert kind == "name" and score == pytest.approx(0.875)
    assert match("GALL0WAY", CANDS, 0.90) is None  # the threshold is honoured
    assert match("DOB:08/29/1951", CANDS, 0.85) == ("date", 1.0)
    assert match("", CANDS, 0.5) is None and match(" ^ , ", CANDS, 0.5) is None


def test_candidates_drop_short_items_and_initials():
    phi = build_phi([("name", "GALLOWAY^JOHN^Q"), ("name", "LI^X")])
    cands = dict(candidates(phi))
    assert "LI" in cands and "GALLOWAY" in cands and "JOHN" in cands
    assert all(len(c) >= 2 for c in cands)
    assert "X" not in cands and "Q" not in cands
    assert "JQG" not in cands  # initials are too short and too common to black out


def test_date_candidates_cover_the_collected_date_layouts():
    cands = dict(candidates(build_phi([("date", "19510829")])))
    for text in ("19510829", "08291951", "29081951"):
        assert cands[text] == "date"


# ---- read_frames / write_frames in the file's own layout -------------------------------------


def make_ds(rows: int, cols: int, *, frames: int = 1, samples: int = 1, bits: int = 8, signed: bool = False,
            planar: bool = False, syntax=ExplicitVRLittleEndian, data: bytes | None = None,
            seed: int = 0) -> Dataset:
    """An uncompressed image dataset with random pixel bytes (padded to even length)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples > 1:
        ds.PlanarConfiguration = 1 if planar else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    if data is None:
        size = rows * cols * samples * frames * bits // 8
        data = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    ds.PixelData = data + (b"\x00" if len(data) % 2 else b"")
    ds["PixelData"].VR = "OB" if bits == 8 else "OW"
    return ds


LAYOUTS = {
    "8-bit grey": dict(rows=16, cols=20),
    "16-bit signed grey": dict(rows=12, cols=10, bits=16, signed=True),
    "RGB interleaved": dict(rows=8, cols=6, samples=3),
    "RGB planar": dict(rows=8, cols=6, samples=3, planar=True),
    "multi-frame grey": dict(rows=6, cols=10, frames=4),
    "multi-frame RGB planar": dict(rows=5, cols=7, frames=3, samples=3, planar=True),
    "odd length": dict(rows=3, cols=5),
    "16-bit big endian": dict(rows=4, cols=6, bits=16, syntax=ExplicitVRBigEndian),
}


@pytest.mark.parametrize("layout", LAYOUTS, ids=list(LAYOUTS))
def test_read_write_round_trip_is_byte_identical(layout):
    spec = LAYOUTS[layout]
    ds = make_ds(**spec)
    original = bytes(ds.PixelData)
    frames, planar = read_frames(ds)
    f, s = spec.get("frames", 1), spec.get("samples", 1)
    assert frames.shape == (f, spec["rows"], spec["cols"], s)
    assert planar == bool(spec.get("planar"))
    if spec.get("syntax") is not ExplicitVRBigEndian:
        # the same values pydicom's own decoder sees (planar data comes back interleaved)
        expected = ds.pixel_array.reshape(frames.shape)
        np.testing.assert_array_equal(frames, expected)
    write_frames(ds, frames, planar)
    assert bytes(ds.PixelData) == original
    assert len(ds.PixelData) % 2 == 0


def test_odd_length_pixel_data_is_padded():
    ds = make_ds(3, 5)
    assert len(ds.PixelData) == 16
    frames, planar = read_frames(ds)
    frames[0, 0, 0, 0] = 7
    write_frames(ds, frames, planar)
    assert len(ds.PixelData) == 16 and ds.PixelData[0] == 7 and ds.PixelData[-1:] == b"\x00"


def test_signed_16_bit_values_are_read_as_signed():
    values = np.array([[-1000, -1, 0, 1, 32767, -32768]], dtype="<i2")
    ds = make_ds(1, 6, bits=16, signed=True, data=values.tobytes())
    frames, _ = read_frames(ds)
    assert frames.dtype.kind == "i"
    np.testing.assert_array_equal(frames[0, :, :, 0], values)


def test_big_endian_file_reads_the_same_values_as_little_endian(read_test_file):
    little, big = read_test_file("MR_small.dcm"), read_test_file("MR_small_bigendian.dcm")
    assert big.file_meta.TransferSyntaxUID == ExplicitVRBigEndian
    a, _ = read_frames(little)
    b, planar = read_frames(big)
    np.testing.assert_array_equal(a, b)
    original = bytes(big.PixelData)
    write_frames(big, b, planar)
    assert bytes(big.PixelData) == original


def test_an_edit_lands_in_the_planar_layout():
    ds = make_ds(4, 5, samples=3, planar=True, data=bytes(4 * 5 * 3))
    frames, planar = read_frames(ds)
    frames[0, 1, 2, :] = (10, 20, 30)  # row 1, column 2, R G B
    write_frames(ds, frames, planar)
    plane = 4 * 5
    raw = ds.PixelData
    assert (raw[1 * 5 + 2], raw[plane + 1 * 5 + 2], raw[2 * plane + 1 * 5 + 2]) == (10, 20, 30)
    assert sum(raw) == 60


def test_1_bit_pixel_data_is_not_writable():
    ds = make_ds(2, 8, data=bytes(2))
    ds.BitsAllocated = 1
    with pytest.raises(PixelsNotWritable):
        read_frames(ds)


# ---- compressed pixel data -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SC_rgb_rle.dcm", "SC_rgb_rle_2frame.dcm", "MR_small_RLE.dcm"])
def test_rle_is_re_encoded_as_rle_with_the_redaction(read_test_file, name):
    ds = read_test_file(name)
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    photometric, bits = ds.PhotometricInterpretation, ds.BitsAllocated
    before = ds.pixel_array.copy()
    frames, planar = read_frames(ds)
    frames[:, 2:12, 3:20, :] = 0
    write_frames(ds, frames, planar)
    buffer = io.BytesIO()
    ds.save_as(buffer)
    buffer.seek(0)
    back = pydicom.dcmread(buffer)
    assert back.file_meta.TransferSyntaxUID == RLELossless
    assert (back.PhotometricInterpretation, back.BitsAllocated) == (photometric, bits)
    after = back.pixel_array.reshape(frames.shape)
    np.testing.assert_array_equal(after, frames)
    assert not after[:, 2:12, 3:20, :].any()
    mask = np.ones(frames.shape, dtype=bool)
    mask[:, 2:12, 3:20, :] = False
    np.testing.assert_array_equal(after[mask], before.reshape(frames.shape)[mask])


def test_jpeg_baseline_cannot_be_written_back(read_test_file):
    ds = read_test_file("SC_rgb_jpeg_dcmtk.dcm")
    frames, planar = read_frames(ds)
    assert frames.shape == (1, ds.Rows, ds.Columns, 3)
    frames[0, :10, :10] = 0
    with pytest.raises(PixelsNotWritable, match="JPEG Baseline"):
        write_frames(ds, frames, planar)


def test_reading_jpeg_baseline_decodes_it(read_test_file):
    ds = read_test_file("SC_rgb_jpeg_dcmtk.dcm")
    frames, planar = read_frames(ds)
    assert frames.shape == (1, 100, 100, 3) and not planar and frames.any()


# ---- header regions --------------------------------------------------------------------------


def with_regions(ds: Dataset, *regions: tuple[int, int, int, int]) -> Dataset:
    """Ultrasound regions given as inclusive (x0, y0, x1, y1)."""
    items = []
    for x0, y0, x1, y1 in regions:
        item = Dataset()
        item.RegionLocationMinX0, item.RegionLocationMinY0 = x0, y0
        item.RegionLocationMaxX1, item.RegionLocationMaxY1 = x1, y1
        items.append(item)
    ds.SequenceOfUltrasoundRegions = Sequence(items)
    return ds


def covered(boxes, rows: int, cols: int) -> np.ndarray:
    """How many boxes cover each pixel."""
    count = np.zeros((rows, cols), dtype=int)
    for x0, y0, x1, y1 in boxes:
        count[y0:y1, x0:x1] += 1
    return count


@pytest.mark.parametrize("regions", [
    [(40, 30, 279, 229)],
    [(20, 30, 150, 200), (170, 60, 300, 220)],       # two, side by side
    [(20, 30, 150, 200), (100, 150, 250, 240)],      # two, overlapping
    [(0, 0, 319, 100)],                               # touching the edges
], ids=["one", "two apart", "two overlapping", "at the edge"])
def test_outside_regions_cover_exactly_the_outside(regions):
    rows, cols = 256, 320
    ds = with_regions(Dataset(), *regions)
    boxes = outside_regions(ultrasound_regions(ds), rows, cols)
    inside = np.zeros((rows, cols), dtype=bool)
    for x0, y0, x1, y1 in regions:  # the region corners are inclusive
        inside[y0:y1 + 1, x0:x1 + 1] = True
    count = covered(boxes, rows, cols)
    assert (count[~inside] == 1).all()  # every outside pixel exactly once
    assert (count[inside] == 0).all()  # no pixel inside a region
    assert all(0 <= x0 < x1 <= cols and 0 <= y0 < y1 <= rows for x0, y0, x1, y1 in boxes)
    assert len(boxes) < rows  # merged down the rows, not one box per row and run


def test_outside_regions_without_regions_or_with_everything_inside():
    assert outside_regions(ultrasound_regions(Dataset()), 64, 64) == []
    assert outside_regions(ultrasound_regions(with_regions(Dataset(), (0, 0, 63, 63))), 64, 64) == []


# ---- plan_boxes ------------------------------------------------------------------------------


def ocr_rule(threshold: int = 85) -> list[PixelRule]:
    return [PixelRule(None, (OcrRedactOp("phi", threshold),), ORIGIN)]


NAME_WORD = word("GALLOWAY, JOHN", (10, 8, 150, 27))
DOB_WORD = word("DOB:08/29/1951", (10, 72, 150, 90))
LABEL_WORD = word("LEFT KIDNEY", (178, 225, 283, 242))


def grey_frames(count: int, same: bool, rows: int = 256, cols: int = 320) -> np.ndarray:
    rng = np.random.default_rng(3)
    one = rng.integers(20, 60, (rows, cols, 1), dtype=np.uint8)
    if same:
        return np.repeat(one[None], count, axis=0)
    return np.stack([rng.integers(20, 60, (rows, cols, 1), dtype=np.uint8) for _ in range(count)])


def test_identical_frames_are_read_once_and_redacted_in_every_frame():
    ocr = FakeOcr([NAME_WORD, LABEL_WORD, DOB_WORD])
    frames = grey_frames(3, same=True)
    boxes = plan_boxes(frames, ocr_rule(), {"phi": PHI}, ocr)
    assert len(ocr.images) == 1
    assert ocr.images[0].shape == (256, 320) and ocr.images[0].dtype == np.uint8
    assert sorted((b.frame, b.kind) for b in boxes) == [(f, k) for f in range(3) for k in ("date", "name")]
    assert {b.text for b in boxes} == {NAME_WORD.text, DOB_WORD.text}  # LEFT KIDNEY stays


def test_distinct_frames_are_each_read():
    frames = grey_frames(3, same=False)
    seen = []

    def reader(image):  # a different word in each frame
        seen.append(image)
        return [NAME_WORD] if len(seen) == 2 else [LABEL_WORD]

    ocr = FakeOcr(reader=reader)
    boxes = plan_boxes(frames, ocr_rule(), {"phi": PHI}, ocr)
    assert len(ocr.images) == 3
    for index, image in enumerate(ocr.images):
        np.testing.assert_array_equal(image, frames[index, ..., 0])
    assert [(b.frame, b.text) for b in boxes] == [(1, NAME_WORD.text)]


def test_rgb_and_16_bit_frames_reach_ocr_as_8_bit_pictures():
    ocr = FakeOcr()
    rgb = np.random.default_rng(0).integers(0, 256, (1, 20, 30, 3), dtype=np.uint8)
    plan_boxes(rgb, ocr_rule(), {"phi": PHI}, ocr)
    grey16 = np.random.default_rng(0).integers(-2000, 3000, (1, 20, 30, 1)).astype("<i2")
    plan_boxes(grey16, ocr_rule(), {"phi": PHI}, ocr)
    assert ocr.images[0].shape == (20, 30, 3) and ocr.images[0].dtype == np.uint8
    np.testing.assert_array_equal(ocr.images[0], rgb[0])
    assert ocr.images[1].shape == (20, 30) and ocr.images[1].dtype == np.uint8
    assert ocr.images[1].max() == 255 and ocr.images[1].min() == 0


def test_region_fill_in_every_frame_without_ocr():
    frames = grey_frames(3, same=False, rows=64, cols=80)
    rules = [PixelRule(None, (RegionFillOp((5, 6, 10, 20), 7), RegionFillOp((70, 50, 100, 100), 0)), ORIGIN)]
    boxes = plan_boxes(frames, rules, {}, None)
    assert sorted((b.frame, b.box, b.fill, b.kind) for b in boxes) == sorted(
        [(f, (5, 6, 15, 26), 7, "region") for f in range(3)]
        + [(f, (70, 50, 80, 64), 0, "region") for f in range(3)])  # clipped to the image
    apply_boxes(frames, boxes)
    assert (frames[:, 6:26, 5:15] == 7).all() and (frames[:, 50:, 70:] == 0).all()


def test_region_fill_does_not_call_ocr():
    ocr = FakeOcr([NAME_WORD])
    rules = [PixelRule(None, (RegionFillOp((0, 0, 4, 4), 0),), ORIGIN)]
    boxes = plan_boxes(grey_frames(2, same=False, rows=16, cols=16), rules, {}, ocr)
    assert len(boxes) == 2 and ocr.images == []


def test_redact_all_text_in_region_only_inside_the_region():
    inside = word("ACME SCANNER 3000", (5, 2, 200, 20))
    outside = word("LEFT KIDNEY", (178, 225, 283, 242))
    below = word("GAIN 45", (10, 60, 80, 75))
    ocr = FakeOcr([inside, outside, below])
    rules = [PixelRule(None, (RedactAllTextOp((0, 0, 320, 48)),), ORIGIN)]
    boxes = plan_boxes(grey_frames(2, same=True), rules, {}, ocr)
    assert [(b.frame, b.text, b.kind) for b in boxes] == [(0, inside.text, "text in region"),
                                                         (1, inside.text, "text in region")]


def test_header_regions_fill_outside_in_every_frame():
    frames = np.full((2, 40, 50, 1), 9, dtype=np.uint8)
    ds = with_regions(Dataset(), (10, 5, 39, 29))
    rules = [PixelRule(None, (HeaderRegionsFillOp(0),), ORIGIN)]
    boxes = plan_boxes(frames, rules, {}, None, ultrasound_regions(ds))
    assert {b.frame for b in boxes} == {0, 1}
    apply_boxes(frames, boxes)
    inside = np.zeros((40, 50), dtype=bool)
    inside[5:30, 10:40] = True
    assert (frames[:, inside] == 9).all() and (frames[:, ~inside] == 0).all()


@pytest.mark.parametrize("box", [(100, 50, 160, 70), (40, 100, 200, 140), (7, 200, 30, 206)])
def test_padding_is_about_15_percent_of_the_text_height(box):
    ocr = FakeOcr([word("GALLOWAY", box)])
    [planned] = plan_boxes(grey_frames(1, same=True), ocr_rule(), {"phi": PHI}, ocr)
    x0, y0, x1, y1 = box
    px0, py0, px1, py1 = planned.box
    height = y1 - y0
    pads = (x0 - px0, y0 - py0, px1 - 1 - x1, py1 - 1 - y1)  # the OCR box's far edge is inclusive
    assert len(set(pads)) == 1, pads  # the same on every side
    assert math.ceil(0.15 * height) <= pads[0] <= 0.15 * height + 2


def test_padding_is_clipped_to_the_image():
    words = [word("GALLOWAY", (1, 2, 60, 22)), word("JOHN", (280, 236, 319, 255))]
    boxes = plan_boxes(grey_frames(1, same=True), ocr_rule(), {"phi": PHI}, FakeOcr(words))
    assert [b.box for b in boxes] == [(0, 0, 65, 27), (276, 232, 320, 256)]


def test_apply_boxes_fills_every_sample():
    frames = np.full((2, 10, 10, 3), 200, dtype=np.uint8)
    apply_boxes(frames, [RedactedBox(1, (2, 3, 5, 7), "x", "name", 1.0)])
    assert (frames[1, 3:7, 2:5] == 0).all()
    assert (frames[0] == 200).all()
    assert int((frames[1] == 0).sum()) == 3 * 4 * 3


def test_nothing_matches_no_boxes():
    ocr = FakeOcr([LABEL_WORD, word("120 KV", (5, 5, 60, 20))])
    assert plan_boxes(grey_frames(2, same=False), ocr_rule(), {"phi": PHI}, ocr) == []


# ---- through the dataset walk ----------------------------------------------------------------

RULES = """
    collect PatientName, PatientID, PatientBirthDate as phi
    PatientName -> empty
    pixels where BurnedInAnnotation = "YES" { ocr -> redact phi fuzzy 85 }
"""


def us_dataset(**extra) -> Dataset:
    ds = make_ds(256, 320, data=grey_frames(1, same=True).tobytes())
    ds.Modality = "US"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "GALLOWAY^JOHN", "PID4711", "19510829"
    ds.BurnedInAnnotation = "YES"
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    return ds


@pytest.fixture
def walker(compile_plan, key):
    def _make(body: str, ocr) -> DatasetDeidentifier:
        plan = compile_plan(body)
        return DatasetDeidentifier(plan, resolve_keys(plan), ocr)

    return _make


def test_walk_redacts_and_audits_every_box(walker):
    ocr = FakeOcr([NAME_WORD, DOB_WORD, LABEL_WORD])
    ds = us_dataset()
    before, _ = read_frames(ds)
    outcome = walker(RULES, ocr).deidentify(ds)
    assert outcome.quarantine is None
    after, _ = read_frames(ds)
    redacted = [c for c in outcome.changes if c.action == "redact-pixels"]
    assert len(redacted) == 2 and {c.path for c in redacted} == {"(7fe0,0010)"}
    note = re.compile(r"frame (\d+) box \[(\d+), (\d+), (\d+), (\d+)\] matched (\w+) score ([\d.]+)")
    found = {}
    for change in redacted:
        m = note.fullmatch(change.note)  # where, what kind, how sure: never the words read
        assert m, change.note
        x0, y0, x1, y1 = map(int, m.group(2, 3, 4, 5))
        assert not after[int(m.group(1)), y0:y1, x0:x1].any()
        for word in (NAME_WORD, DOB_WORD):
            wx0, wy0, wx1, wy1 = word.box
            if x0 <= wx0 and y0 <= wy0 and x1 >= wx1 and y1 >= wy1:
                found[word.text] = m.group(6)
    assert found == {NAME_WORD.text: "name", DOB_WORD.text: "date"}
    x0, y0, x1, y1 = LABEL_WORD.box
    np.testing.assert_array_equal(after[0, y0:y1 + 1, x0:x1 + 1], before[0, y0:y1 + 1, x0:x1 + 1])
    assert ds.PhotometricInterpretation == "MONOCHROME2" and ds.BitsAllocated == 8


def test_walk_without_a_match_leaves_the_pixel_bytes_alone(walker):
    ds = us_dataset()
    original = ds.PixelData
    outcome = walker(RULES, FakeOcr([LABEL_WORD])).deidentify(ds)
    assert outcome.quarantine is None
    assert ds.PixelData is original
    assert not [c for c in outcome.changes if c.action == "redact-pixels"]


def test_walk_with_a_false_condition_does_not_read_the_pixels(walker):
    ocr = FakeOcr([NAME_WORD])
    ds = us_dataset(BurnedInAnnotation="NO")
    original = ds.PixelData
    outcome = walker(RULES, ocr).deidentify(ds)
    assert ocr.images == [] and ds.PixelData is original and outcome.quarantine is None


def test_walk_matches_the_original_values_after_the_header_is_emptied(walker):
    ds = us_dataset()
    outcome = walker(RULES, FakeOcr([NAME_WORD])).deidentify(ds)
    assert ds["PatientName"].is_empty  # emptied by the walk, yet still found in the pixels
    assert [c.action for c in outcome.changes].count("redact-pixels") == 1


def test_walk_quarantines_jpeg_baseline_that_needs_redaction(walker, read_test_file):
    ds = read_test_file("SC_rgb_jpeg_dcmtk.dcm")
    outcome = walker("pixels { region 0,0,10,10 -> fill 0 }", None).deidentify(ds)
    assert outcome.quarantine and "JPEG Baseline" in outcome.quarantine


def test_header_regions_use_the_original_header_even_if_rules_remove_it(walker):
    ds = with_regions(us_dataset(), (40, 30, 279, 229))
    outcome = walker("""
        SequenceOfUltrasoundRegions -> remove
        pixels where Modality = US { header regions -> fill 0 }
    """, None).deidentify(ds)
    assert outcome.quarantine is None
    frames, _ = read_frames(ds)
    assert not frames[0, :30].any() and not frames[0, :, :40].any()


@pytest.mark.parametrize("text, expected", [
    ("SPLEEN", None),  # a short name part inside a label is not the name
    ("SUMMARY", None),
    ("DR LEE", "name"),  # as a whole word it is
    ("ID:4711", "id"),
    ("47110 mm", None),  # a short ID inside a longer number is not the ID
])
def test_short_candidates_match_longer_text_only_as_whole_words(text, expected):
    cands = candidates(build_phi([("name", "LEE^MARY"), ("id", "4711")]))
    hit = match(text, cands, 0.85)
    assert (hit[0] if hit else None) == expected


# ---- ocr -> redact ... detect ----------------------------------------------------------------


def test_detectors_redact_burned_in_text_no_header_holds():
    """`ocr -> redact phi detect address, phone`: boxes a detector finds PHI in are filled, also an
    address OCR split over two boxes (street above city); the rest stays."""
    street = word("1742 Quarry Ridge Road", (10, 30, 180, 46))
    city = word("Dayton, OH 45402", (10, 50, 140, 66))
    phone = word("Tel (937) 555-0188", (10, 120, 160, 136))
    label = word("LEFT KIDNEY LONG", (178, 225, 300, 242))
    rules = [PixelRule(None, (OcrRedactOp("phi", 85, ("address", "phone")),), ORIGIN)]
    boxes = plan_boxes(grey_frames(1, same=True), rules, {"phi": PHI}, FakeOcr([NAME_WORD, street, city, phone, label]))
    assert sorted((b.text, b.kind) for b in boxes) == [
        ("1742 Quarry Ridge Road", "address"), ("Dayton, OH 45402", "address"),
        (NAME_WORD.text, "name"), ("Tel (937) 555-0188", "phone")]
    # without `detect`, only the PHI set's words are redacted
    plain = plan_boxes(grey_frames(1, same=True), ocr_rule(), {"phi": PHI}, FakeOcr([NAME_WORD, street, city, phone]))
    assert [b.text for b in plain] == [NAME_WORD.text]
