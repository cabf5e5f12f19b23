"""OCR behind one small interface: an image in, words with boxes and confidence out.

In: a 2-D uint8 image (grey) or H×W×3 (RGB). Out: `OcrWord`s. Two backends, both offline:
`RapidOcrEngine` (default; rapidocr 3.x with onnxruntime, PP-OCR ONNX weights inside its wheel,
default model configuration only — others would download at run time) and `TesseractEngine`
(fast; Debian's tesseract through `tesserocr`, used when that optional package is installed).
`read(image, detect=False)` treats the image as one line of text (a known box): recognition
only, ~10 ms instead of ~1 s.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class OcrWord:
    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels
    confidence: float


class OcrEngine(Protocol):
    name: str

    def read(self, image: np.ndarray, detect: bool = True) -> list[OcrWord]:
        """Words in `image`; with detect=False the whole image is one line of text."""


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int = 0) -> None:
        """`threads`: onnxruntime threads per process (0: all cores; 1 when several workers run)."""
        from rapidocr import RapidOCR  # heavy: loaded only when OCR is needed

        # rapidocr logs every model file it opens, and resets its logger's level as it goes: a
        # filter stays.
        logging.getLogger("RapidOCR").addFilter(lambda record: record.levelno >= logging.WARNING)
        params: dict[str, str | int] = {"Global.log_level": "warning"}
        if threads > 0:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
            params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
        self._engine = RapidOCR(params=params)

    def read(self, image: np.ndarray, detect: bool = True) -> list[OcrWord]:
        image = _as_uint8(image)
        # RapidOCROutput; without detection a TextRecOutput: both have txts and scores
        result: Any = self._engine(image, use_det=detect, use_cls=False, use_rec=True)
        texts = result.txts or ()
        scores = result.scores or ()
        if not detect:
            h, w = image.shape[:2]
            return [OcrWord(t, (0, 0, w, h), float(s)) for t, s in zip(texts, scores, strict=True) if t]
        words = []
        for points, text, score in zip(result.boxes if result.boxes is not None else (), texts, scores, strict=True):
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            words.append(OcrWord(text, (int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys))), float(score)))
        return words


class TesseractEngine:
    """Debian's Tesseract through `tesserocr`: binarised, upscaled 2x, sparse-text page mode."""

    name = "tesseract"
    SCALE = 2

    def __init__(self, threads: int = 0) -> None:
        import glob
        import os

        import tesserocr  # optional: pip install tesserocr, with Debian's tesseract-ocr-eng

        found = sorted(glob.glob("/usr/share/tesseract-ocr/*/tessdata"))
        path = os.environ.get("TESSDATA_PREFIX") or (found[-1] if found else "")
        self._api = tesserocr.PyTessBaseAPI(path=path, lang="eng", psm=tesserocr.PSM.SPARSE_TEXT)
        self._psm = tesserocr.PSM
        self._level = tesserocr.RIL.WORD

    def read(self, image: np.ndarray, detect: bool = True) -> list[OcrWord]:
        from PIL import Image

        grey = _as_uint8(image if image.ndim == 2 else image[..., :3].mean(axis=2))
        text_is_bright = grey.mean() < 128  # burned-in text is light on dark, mostly
        binary = (grey > (grey.mean() + grey.std())) if text_is_bright else (grey < (grey.mean() - grey.std()))
        picture = Image.fromarray(np.where(binary, 0, 255).astype(np.uint8))  # dark text on white
        picture = picture.resize((picture.width * self.SCALE, picture.height * self.SCALE))
        self._api.SetPageSegMode(self._psm.SPARSE_TEXT if detect else self._psm.SINGLE_LINE)
        self._api.SetImage(picture)
        self._api.Recognize()
        words = []
        iterator = self._api.GetIterator()
        level = self._level
        while iterator is not None:
            text = (iterator.GetUTF8Text(level) or "").strip()
            box = iterator.BoundingBox(level)
            if text and box:
                x0, y0, x1, y1 = (v // self.SCALE for v in box)
                words.append(OcrWord(text, (x0, y0, x1, y1), iterator.Confidence(level) / 100.0))
            if not iterator.Next(level):
                break
        return words


ENGINES: dict[str, Callable[[int], OcrEngine]] = {"rapidocr": RapidOcrEngine, "tesseract": TesseractEngine}
ENGINE_MODULES = {"rapidocr": "rapidocr", "tesseract": "tesserocr"}


class LazyOcrEngine:
    """Builds the named engine on first use: loading OCR models costs a second, often for nothing.
    Remembers what it read in the last `CACHE_FRAMES` distinct images, so a frame repeated across
    the files of a batch (the same scout, the same overlay screen) is OCR'd once per process."""

    CACHE_FRAMES = 128

    def __init__(self, name: str, threads: int = 0) -> None:
        self.threads = threads
        self._read: OrderedDict[tuple, list[OcrWord]] = OrderedDict()
        if name not in ENGINES:
            raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
        module = ENGINE_MODULES[name]
        if importlib.util.find_spec(module) is None:  # fail now, not on the first image
            raise ValueError(f"OCR engine {name!r} needs the Python package {module!r}, which is not installed")
        self.name = name

    def read(self, image: np.ndarray, detect: bool = True) -> list[OcrWord]:
        key = (image.shape, image.dtype.str, detect, hashlib.blake2b(image.tobytes(), digest_size=16).digest())
        words = self._read.get(key)
        if words is None:
            words = self._read[key] = ocr_engine(self.name, self.threads).read(image, detect)
            if len(self._read) > self.CACHE_FRAMES:
                self._read.popitem(last=False)
        else:
            self._read.move_to_end(key)
        return list(words)


@functools.lru_cache(maxsize=4)
def ocr_engine(name: str = "rapidocr", threads: int = 0) -> OcrEngine:
    """The named engine (built once per process)."""
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
    return ENGINES[name](threads)


def _as_uint8(image: np.ndarray) -> np.ndarray:
    """Stretch any integer or float image to 0..255 (OCR models read 8-bit pictures)."""
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    data = image.astype(np.float64)
    low, high = float(data.min()), float(data.max())
    scaled = np.zeros_like(data) if high <= low else (data - low) * (255.0 / (high - low))
    return np.ascontiguousarray(scaled.astype(np.uint8))
