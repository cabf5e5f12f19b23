"""`pixels_hidden`: is the burned-in text of a box still readable in the output image?

In: an output file, the key's box (`{"text", "top_left": [x, y], "bottom_right": [x, y]}`, x =
column, y = row) and an OCR engine. Out: True when OCR of the box, in any distinct frame, still
finds a word of the text. Words are split at spaces, `^` and `,`, compared normalised (upper case;
`: / . -` dropped, so a date stays one word); labels ending in `:` and words shorter than two
characters are ignored. Identical frames are read once.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pydicom
import regex

from deidc.runtime.pixels.ocr import OcrEngine

PAD = 2  # pixels around the box, so glyph edges on its border are read too
_DROP = regex.compile(r"[\s^,:/.\-]+")
_WORD = regex.compile(r"[^\s^,]+")


def normalise(text: str) -> str:
    return _DROP.sub("", text.upper())


def words_of(text: str) -> list[str]:
    """The PHI words of a box's text: labels (`DOB:`, `ID:`) are not PHI; a date stays whole."""
    return [w for w in (normalise(t) for t in _WORD.findall(text) if not t.endswith(":")) if len(w) >= 2]


def frames(ds: pydicom.Dataset) -> list[np.ndarray]:
    """Every frame as a 2-D grey or H×W×3 colour array."""
    array = ds.pixel_array
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    count = int(ds.get("NumberOfFrames", 1) or 1)
    if count == 1:
        return [array]
    return [array[i] for i in range(count)] if (array.ndim == 4 or (samples == 1 and array.ndim == 3)) else [array]


def text_still_readable(path: Path, box: dict, ocr: OcrEngine) -> bool:
    ds = pydicom.dcmread(path)
    (x0, y0), (x1, y1) = box["top_left"], box["bottom_right"]
    targets = words_of(box.get("text", ""))
    if not targets:
        return False
    seen: set[str] = set()
    for frame in frames(ds):
        crop = frame[max(0, y0 - PAD):y1 + PAD + 1, max(0, x0 - PAD):x1 + PAD + 1]
        digest = hashlib.md5(np.ascontiguousarray(crop).tobytes()).hexdigest()
        if digest in seen or crop.size == 0:
            continue
        seen.add(digest)
        if crop.max() == crop.min():  # a flat box holds no text
            continue
        read = normalise(" ".join(w.text for w in ocr.read(crop, detect=False)))
        if any(word in read for word in targets):
            return True
    return False
