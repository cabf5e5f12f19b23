"""LazyOcrEngine reads each distinct image once per process (frames repeated across files)."""
import numpy as np

from deidc.runtime.pixels import ocr as ocr_module
from deidc.runtime.pixels.ocr import LazyOcrEngine, OcrWord


class CountingEngine:
    def __init__(self):
        self.calls = 0

    def read(self, image, detect=True):
        self.calls += 1
        return [OcrWord("DOE", (0, 0, 4, 4), 0.9)]


def test_repeated_frames_are_read_once(monkeypatch):
    engine = CountingEngine()
    monkeypatch.setattr(ocr_module, "ocr_engine", lambda name, threads: engine)
    lazy = LazyOcrEngine("rapidocr")
    frame = np.zeros((8, 8, 3), np.uint8)
    other = frame.copy()
    other[0, 0, 0] = 1
    first = lazy.read(frame)
    first.clear()  # callers may change the list they get
    assert [w.text for w in lazy.read(frame.copy())] == ["DOE"]
    lazy.read(other)
    assert engine.calls == 2


def test_cache_is_bounded(monkeypatch):
    engine = CountingEngine()
    monkeypatch.setattr(ocr_module, "ocr_engine", lambda name, threads: engine)
    lazy = LazyOcrEngine("rapidocr")
    lazy.CACHE_FRAMES = 3
    frames = [np.full((4, 4), i, np.uint8) for i in range(5)]
    for frame in frames:
        lazy.read(frame)
    lazy.read(frames[0])  # evicted: read again
    assert engine.calls == 6
    assert len(lazy._read) == 3
