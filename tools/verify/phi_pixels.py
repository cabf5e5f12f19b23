"""The PHI search in pixels (see tools/verify/phi_search.py): which files may carry burned-in
text, which of their frames are read, and OCR's words matched against the original patient's PHI."""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.filereader import dcmread
from pydicom.pixels import pixel_array

from deidc.runtime.pixels.ocr import OcrEngine
from deidc.tools.verify import Finding
from deidc.tools.verify.phi_match import PhiValue, PhiValues

BURNED_IN_MODALITIES = frozenset({"US", "SC", "OT", "XC", "ES", "GM", "SM", "DOC"})
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
COLOUR = ("RGB", "YBR")
FRAME_CAP = 8  # frames read of a multi-frame image: first, middle, last and evenly between
COLOUR_FRAMES_MAX = 10  # a colour image of more frames (a cine loop of a colour modality) only by modality


def may_carry_burned_in_text(ds: Dataset) -> bool:
    """Images whose pixels often carry text: the modalities that draw it (ultrasound, secondary
    capture, photographs), an image that says it has some, a colour image of a few frames."""
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        return False
    if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
        return True
    if str(ds.get("Modality", "")).strip().upper() in BURNED_IN_MODALITIES:
        return True
    if str(ds.get("SOPClassUID", "")).startswith(SECONDARY_CAPTURE):
        return True
    frames = _frame_count(ds)
    return str(ds.get("PhotometricInterpretation", "")).strip().upper().startswith(COLOUR) and frames <= COLOUR_FRAMES_MAX


def frames_to_read(count: int, cap: int = FRAME_CAP) -> list[int]:
    """0-based frame indices: first, middle, last, and evenly spaced others up to `cap`."""
    if count <= cap:
        return list(range(count))
    chosen = {0, count // 2, count - 1}
    for i in range(1, cap - 1):
        if len(chosen) >= cap:
            break
        chosen.add(round(i * (count - 1) / (cap - 1)))
    return sorted(chosen)


def search_pixels(out_path: Path, phi: PhiValues, rel: str, ocr: OcrEngine,
                  notes: Counter[str] | None = None) -> Iterator[Finding]:
    """OCR of the output's frames (of images that may carry burned-in text): a word that is a PHI
    value of the original patient is a "phi-in-pixels" finding, path "frame N" (from 1). A file
    whose pixels cannot be decoded is skipped and counted in `notes` ("pixels-unreadable"); the
    frames read are counted as "frames-read"."""
    notes = notes if notes is not None else Counter()
    if not len(phi):
        return
    try:
        ds = dcmread(out_path, force=True, defer_size=4096)  # pixels present, not read
    except Exception:
        notes["pixels-unreadable"] += 1
        return
    if not may_carry_burned_in_text(ds):
        return
    for index, image in _frames(out_path, ds, notes):
        found: set[PhiValue] = set()
        for word in ocr.read(image, detect=True):
            found |= phi.find(word.text, ocr=True, initials=False)
        for detail in sorted({v.detail for v in found}):
            yield Finding("phi-in-pixels", rel, f"frame {index + 1}", detail)


def _frames(out_path: Path, ds: Dataset, notes: Counter[str]) -> Iterator[tuple[int, np.ndarray]]:
    """(0-based index, image) of each frame to read, a frame identical to one before left out; a
    frame that cannot be decoded ends the file ("pixels-unreadable"); each yielded is "frames-read"."""
    seen_frames: set[bytes] = set()
    for index in frames_to_read(_frame_count(ds)):
        try:
            frame = pixel_array(out_path, index=index)
        except Exception:
            notes["pixels-unreadable"] += 1
            return
        image = _ocr_image(frame)
        if image is None:
            continue
        key = hashlib.blake2b(image.tobytes(), digest_size=16).digest() + bytes(str(image.shape), "ascii")
        if key in seen_frames:
            continue
        seen_frames.add(key)
        notes["frames-read"] += 1
        yield index, image


def _frame_count(ds: Dataset) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _ocr_image(frame: np.ndarray) -> np.ndarray | None:
    """A frame as OCR reads it: 2-D grey or H×W×3; None for what is no picture."""
    if frame.ndim == 3 and frame.shape[-1] in (3, 4):
        return np.ascontiguousarray(frame[..., :3])
    if frame.ndim == 2 and min(frame.shape) >= 16:
        return frame
    return None
