"""Burned-in text: OCR every distinct frame, match the words against the file's PHI, black out.

In: a dataset, the Plan's pixel rules that apply to it, the file's PHI sets and an OCR engine.
Out: the dataset with the matched text boxes (and fixed regions) filled in every frame, and one
`RedactedBox` per box for the audit; or `PixelsUnchanged` when nothing matched (the pixel data
bytes are then not touched at all).

Matching (per OCR text box): both sides normalised (upper case; spaces and `^ , : / . -`
dropped); score = normalised Levenshtein similarity, raised to `partial_ratio` only when the OCR
text is longer than the candidate (merged tokens such as `DOB:08/29/1951`); candidates of two
characters must match exactly, one-character candidates are ignored. A match blacks out the
whole OCR box, padded by 15 % of the text height. Identical frames are OCR'd once.

Uncompressed pixel data is edited in its own layout (no colour conversion), so the output keeps
the photometric interpretation, bits and transfer syntax. Compressed pixel data is decoded and
re-encoded in its own transfer syntax when an encoder is installed (RLE, JPEG 2000 lossless);
otherwise the file is quarantined rather than released with the text.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import regex
from pydicom.dataset import Dataset
from rapidfuzz import fuzz

from deidc.compiler.plan import HeaderRegionsFillOp, OcrRedactOp, PixelRule, RedactAllTextOp, RegionFillOp
from deidc.runtime.pixels.ocr import OcrEngine, OcrWord
from deidc.runtime.text.detectors import APPLY_AT
from deidc.runtime.text.detectors.registry import FINDERS
from deidc.runtime.text.phi import PhiSet

_NORMALISE = regex.compile(r"[\s^,:/.\-]+")
# Compressed transfer syntaxes whose redacted pixels can be stored without loss.
LOSSLESS_SYNTAXES = frozenset({
    "1.2.840.10008.1.2.5",  # RLE Lossless
    "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",  # JPEG Lossless
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.203",  # HTJ2K Lossless (RPCL)
})
PAD_FRACTION = 0.15


class PixelsNotWritable(Exception):
    """Redaction was needed but the result cannot be stored in the file's own transfer syntax."""


class PixelsNotReadable(Exception):
    """The pixel data cannot be laid out as frames, so it cannot be checked for burned-in text."""


@dataclass(frozen=True)
class RedactedBox:
    frame: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    text: str  # what OCR read ("" for a fixed region)
    kind: str  # the matched PHI item's kind, "region", or "text in region"
    score: float
    fill: int = 0


def normalise_ocr_text(text: str) -> str:
    """OCR text as it is compared with PHI: upper-case, without spaces and the separators OCR
    reads inconsistently (`^ , : / . -`), so "DOE^JOHN" matches "DOE JOHN" and "01/02" "0102"."""
    return _NORMALISE.sub("", text.upper())


def candidates(phi: PhiSet) -> list[tuple[str, str]]:
    """(normalised candidate, kind) from a PHI set: words, whole values and their digit forms."""
    found: dict[str, str] = {}
    for word, kind in (*phi.words.items(), *phi.phrases.items()):
        text = normalise_ocr_text(word)
        if len(text) >= 2 and kind != "initials":
            found.setdefault(text, kind)
    for digits, kind in phi.digits.items():
        if len(digits) >= 4:
            found.setdefault(digits, kind)
    return sorted(found.items())


SHORT = 4  # candidates this short match inside longer OCR text only as a whole word


def match(text: str, cands: list[tuple[str, str]], threshold: float) -> tuple[str, float] | None:
    """The best-scoring candidate kind for one OCR text, if it reaches the threshold. A short
    candidate (`LEE`) inside a longer OCR text counts only as a whole word there, so labels such
    as `SPLEEN` keep their pixels."""
    ocr = normalise_ocr_text(text)
    if not ocr:
        return None
    words = {normalise_ocr_text(w) for w in _NORMALISE.split(text.upper()) if w}
    best: tuple[str, float] | None = None
    for cand, kind in cands:
        if len(cand) == 2:
            score = 1.0 if cand == ocr else 0.0
        else:
            score = fuzz.ratio(ocr, cand) / 100.0
            if len(ocr) > len(cand):
                inside = (1.0 if cand in words else 0.0) if len(cand) <= SHORT else fuzz.partial_ratio(cand, ocr) / 100.0
                score = max(score, inside)
        if score >= threshold and (best is None or score > best[1]):
            best = (kind, score)
    return best


# ---- pixel data as arrays in their own layout ------------------------------------------------


def _layout(ds: Dataset) -> tuple[np.dtype, tuple[int, ...]]:
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    bits = int(ds.BitsAllocated)
    if bits not in (8, 16, 32):
        raise PixelsNotWritable(f"{bits}-bit pixel data")
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    dtype = np.dtype(f"{'i' if signed else 'u'}{bits // 8}")
    little = ds.file_meta.TransferSyntaxUID != "1.2.840.10008.1.2.2"
    dtype = dtype.newbyteorder("<" if little else ">")
    planar = int(ds.get("PlanarConfiguration", 0) or 0) == 1 and samples > 1
    shape = (frames, samples, ds.Rows, ds.Columns) if planar else (frames, ds.Rows, ds.Columns, samples)
    return dtype, shape


def read_frames(ds: Dataset) -> tuple[np.ndarray, bool]:
    """(frames as F×R×C×S, planar flag) — a view of uncompressed bytes, or decoded data."""
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        array = ds.pixel_array
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        return array.reshape(frames, ds.Rows, ds.Columns, samples).copy(), False
    if str(ds.get("PhotometricInterpretation", "")).startswith(("YBR_FULL_422", "YBR_PARTIAL")):
        raise PixelsNotReadable("native chroma-subsampled (YBR 4:2:2) pixel data is not supported")
    dtype, shape = _layout(ds)
    size = int(np.prod(shape)) * dtype.itemsize
    if len(ds.PixelData) < size:
        raise PixelsNotReadable(f"pixel data holds {len(ds.PixelData)} bytes; rows, columns, samples and "
                                f"frames need {size}")
    data = np.frombuffer(ds.PixelData[:size], dtype=dtype).reshape(shape).copy()
    planar = shape[1] != ds.Rows
    return (np.moveaxis(data, 1, -1) if planar else data), planar


JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


def _encode_jpeg_baseline(ds: Dataset, frames: np.ndarray, quality: int) -> None:
    """Re-encode 8-bit frames as JPEG baseline at `quality` (only when the rules allow it)."""
    from io import BytesIO

    from PIL import Image
    from pydicom.encaps import encapsulate

    if frames.dtype != np.uint8:
        raise PixelsNotWritable("JPEG baseline re-encoding needs 8-bit pixels")
    colour = frames.shape[-1] == 3
    encoded = []
    for frame in frames:
        picture = Image.fromarray(frame if colour else frame[..., 0], "RGB" if colour else "L")
        buffer = BytesIO()
        picture.save(buffer, "JPEG", quality=quality, subsampling=0 if colour else None)
        encoded.append(buffer.getvalue())
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    if colour:
        ds.PhotometricInterpretation = "YBR_FULL"  # what Pillow writes; decoders convert it back
    ds.LossyImageCompression = "01"
    methods = list(ds.get("LossyImageCompressionMethod") or [])
    ds.LossyImageCompressionMethod = [*methods, "ISO_10918_1"] if methods else "ISO_10918_1"


def write_frames(ds: Dataset, frames: np.ndarray, planar: bool, lossy_quality: int | None = None) -> None:
    syntax = ds.file_meta.TransferSyntaxUID
    if syntax.is_compressed:
        if syntax == JPEG_BASELINE and lossy_quality is not None:
            _encode_jpeg_baseline(ds, frames, lossy_quality)
            return
        if syntax not in LOSSLESS_SYNTAXES:
            hint = "; `allow lossy quality N` in the pixels block permits it" if syntax == JPEG_BASELINE else ""
            raise PixelsNotWritable(f"redacted pixels cannot be re-encoded losslessly as {syntax.name}{hint}")
        array = frames[..., 0] if frames.shape[-1] == 1 else frames
        array = array[0] if array.shape[0] == 1 else array
        try:
            ds.compress(syntax, array, generate_instance_uid=False)
        except Exception as err:  # noqa: BLE001 — no encoder installed, or it refused the data
            raise PixelsNotWritable(f"no encoder for {syntax.name} ({err})") from None
        return
    data = np.moveaxis(frames, -1, 1) if planar else frames
    raw = np.ascontiguousarray(data).tobytes()
    ds.PixelData = raw + (b"\x00" if len(raw) % 2 else b"")


def display(frame: np.ndarray) -> np.ndarray:
    """A frame as an 8-bit picture for OCR (grey, or the three colour samples)."""
    image = frame[..., 0] if frame.shape[-1] == 1 else frame[..., :3]
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    data = image.astype(np.float64)
    low, high = np.percentile(data, 1), np.percentile(data, 99.5)
    if high <= low:
        high = low + 1
    return np.ascontiguousarray(np.clip((data - low) * (255.0 / (high - low)), 0, 255).astype(np.uint8))


# ---- the redaction ---------------------------------------------------------------------------


def _padded(word: OcrWord, rows: int, cols: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = word.box
    pad = int(round((y1 - y0) * PAD_FRACTION)) + 1
    return max(0, x0 - pad), max(0, y0 - pad), min(cols, x1 + pad + 1), min(rows, y1 + pad + 1)


def ultrasound_regions(ds: Dataset) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of every Sequence of Ultrasound Regions item, read before the rules run
    (a rule may remove the sequence; its regions still say where the image data is)."""
    regions = []
    for region in ds.get("SequenceOfUltrasoundRegions") or []:
        try:
            regions.append((int(region.RegionLocationMinX0), int(region.RegionLocationMinY0),
                            int(region.RegionLocationMaxX1), int(region.RegionLocationMaxY1)))
        except (AttributeError, TypeError, ValueError):
            continue
    return regions


def outside_regions(regions: list[tuple[int, int, int, int]], rows: int, cols: int) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) covering the image outside every declared ultrasound region."""
    keep = np.zeros((rows, cols), dtype=bool)
    for x0, y0, x1, y1 in regions:
        keep[max(0, y0):y1 + 1, max(0, x0):x1 + 1] = True
    if not regions or keep.all():
        return []
    boxes: list[tuple[int, int, int, int]] = []
    for y in range(rows):  # one box per run of outside pixels in each row, merged down the rows
        outside = np.flatnonzero(~keep[y])
        if not outside.size:
            continue
        breaks = np.flatnonzero(np.diff(outside) > 1)
        starts = np.r_[outside[0], outside[breaks + 1]]
        ends = np.r_[outside[breaks], outside[-1]]
        boxes.extend((int(a), y, int(b) + 1, y + 1) for a, b in zip(starts, ends, strict=True))
    merged: list[tuple[int, int, int, int]] = []
    for box in sorted(boxes, key=lambda b: (b[0], b[2], b[1])):  # same columns, adjacent rows
        last = merged[-1] if merged else None
        if last and last[0] == box[0] and last[2] == box[2] and last[3] == box[1]:
            merged[-1] = (last[0], last[1], last[2], box[3])
        else:
            merged.append(box)
    return merged


def plan_boxes(frames: np.ndarray, rules: list[PixelRule], phi: dict[str, PhiSet],
               ocr: OcrEngine | None, regions: list[tuple[int, int, int, int]] | None = None) -> list[RedactedBox]:
    """Every box to fill, in every frame (OCR'd once per distinct frame); `regions`: the
    original Sequence of Ultrasound Regions, for `header regions`."""
    boxes: list[RedactedBox] = []
    rows, cols = frames.shape[1], frames.shape[2]
    ops = [op for rule in rules for op in rule.ops]
    header = [(box, op.value) for op in ops if isinstance(op, HeaderRegionsFillOp)
              for box in outside_regions(regions or [], rows, cols)]
    ocr_ops = [op for op in ops if isinstance(op, (OcrRedactOp, RedactAllTextOp))]
    cands = {op.phi: candidates(phi[op.phi]) for op in ocr_ops if isinstance(op, OcrRedactOp)}
    read_cache: dict[str, list[OcrWord]] = {}
    for index, frame in enumerate(frames):
        boxes.extend(RedactedBox(index, box, "", "outside header regions", 1.0, value) for box, value in header)
        for op in ops:
            if isinstance(op, RegionFillOp):
                x, y, w, h = op.box
                boxes.append(RedactedBox(index, (x, y, min(cols, x + w), min(rows, y + h)), "", "region", 1.0, op.value))
        if not ocr_ops or ocr is None:
            continue
        key = hashlib.md5(frame.tobytes()).hexdigest()
        if key not in read_cache:
            read_cache[key] = ocr.read(display(frame), detect=True)
        words = read_cache[key]
        detected = [_detected(words, op.detectors) for op in ocr_ops if isinstance(op, OcrRedactOp) and op.detectors]
        for i, word in enumerate(words):
            for op in ocr_ops:
                if isinstance(op, RedactAllTextOp):
                    hit = ("text in region", 1.0) if _inside(word.box, op.box) else None
                else:
                    hit = match(word.text, cands[op.phi], op.threshold / 100.0)
                    hit = hit or next((found[i] for found in detected if i in found), None)
                if hit:
                    boxes.append(RedactedBox(index, _padded(word, rows, cols), word.text, hit[0], round(hit[1], 3)))
                    break
    return boxes


def _detected(words: list[OcrWord], detectors: tuple[str, ...]) -> dict[int, tuple[str, float]]:
    """Index of each OCR'd text box a detector finds PHI in → (detector, confidence). The boxes are
    read as one text, in reading order (top to bottom, then left to right), one box per line, so
    PHI that OCR splits over boxes (a street above its city and ZIP) is found whole."""
    order = sorted(range(len(words)), key=lambda i: (words[i].box[1], words[i].box[0]))
    parts, ranges, at = [], [], 0
    for i in order:
        parts.append(words[i].text)
        ranges.append((at, at + len(words[i].text), i))
        at += len(words[i].text) + 1
    text = "\n".join(parts)
    found: dict[int, tuple[str, float]] = {}
    for name in detectors:
        for d in FINDERS[name](text):
            if d.confidence < APPLY_AT:
                continue
            for start, end, i in ranges:
                if start < d.end and d.start < end and i not in found:
                    found[i] = (name, d.confidence)
    return found


def _inside(word_box: tuple[int, int, int, int], region: tuple[int, int, int, int]) -> bool:
    x, y, w, h = region
    x0, y0, x1, y1 = word_box
    return x0 >= x and y0 >= y and x1 <= x + w and y1 <= y + h


def apply_boxes(frames: np.ndarray, boxes: list[RedactedBox]) -> None:
    for box in boxes:
        x0, y0, x1, y1 = box.box
        frames[box.frame, y0:y1, x0:x1, :] = box.fill


def write_previews(directory, name: str, frames: np.ndarray, boxes: list[RedactedBox]) -> None:
    """PNG of every redacted frame with its boxes outlined, for a reviewer (`apply --preview`)."""
    from pathlib import Path

    from PIL import Image, ImageDraw

    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # frames of patients: the owner's only
    for index in sorted({b.frame for b in boxes}):
        picture = Image.fromarray(display(frames[index])).convert("RGB")
        draw = ImageDraw.Draw(picture)
        for box in (b for b in boxes if b.frame == index):
            draw.rectangle(box.box, outline=(255, 0, 0), width=2)
        picture.save(directory / f"{name}_frame{index:04d}.png")
