"""`deidc verify`: an independent check of a de-identified tree — the second pair of eyes.

Written apart from `apply`'s matching (it reads no Plan and calls neither the walk nor `clean`):
it looks at what was released and says what still looks like PHI, what is not valid DICOM, and
what is inconsistent across files. Each scanner is a module of this package yielding `Finding`s:

    headers.py      PHI-bearing header elements, private and unknown elements, file meta
    phi_search.py   with the originals (--against): every PHI value of the original patient,
                    in every text value at any depth and in burned-in text (OCR)
    consistency.py  UIDs not remapped, patient IDs and pseudonyms not one-to-one, date offsets
                    that differ within one patient
    conformance.py  dciodvfy on each output and its input: the errors de-identification added

A finding names its kind, the file and the tag path, never the value.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    kind: str  # a short, stable name: "phi-in-text", "private-not-safe", "uid-not-remapped", ...
    file: str  # the output file, relative to the output folder
    path: str  # the tag path, e.g. "(0010,0010)" or "(0040,a730)[0]/(0040,a160)"; "frame 3"; "" for the file
    detail: str  # what is wrong, in words, never the value: "the original patient's surname"
