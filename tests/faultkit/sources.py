"""Where the corpus comes from and what it plants: the repo and data paths, the marker and its
placeholders, the private block the marker goes into, and `SOURCES`, the real files the bases are
made from.

In: nothing (paths resolved from the installed pydicom and deid-data packages and this checkout).
Out: constants only; `bases` reads `SOURCES`, every other module takes the marker from here.

Sources: the repo's samples/, pydicom's test files (native, RLE, JPEG 2000, deflated, big
endian, an RT plan with sequences) and deid-data's CT brain, each read with pydicom and given a
marker (`ZQXMARKER` + 7 digits, the mutant's number) in values both shipped rulesets remove or clean:
PatientName, OtherPatientNames, PatientAddress, InstitutionName, StudyDescription (ps3.15-basic
removes it, tcia cleans it of the collected PHI, which includes PatientName), PatientID inside
OtherPatientIDsSequence, and a private element (odd group, with a creator). Every base has its own
PatientID and every mutant its own SOP Instance UID, so no mutant is a duplicate of another.
"""
from __future__ import annotations

import re
from pathlib import Path

import deid_data
import pydicom

REPO = Path(__file__).resolve().parents[2]  # tests/faultkit/sources.py -> the repo
TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"  # never get_testdata_file: it may download
DEID_DATA = Path(deid_data.__file__).parent / "data"
RULESETS = REPO / "rulesets"

MARKER = b"ZQXMARKER"
MARKER_RE = re.compile(rb"ZQXMARKER(\d{7})")
_MARKER_PLACEHOLDER = MARKER + b"0000000"
_UID_ROOT = "1.2.826.0.1.3680043.8.498.4242"  # pydicom's documented example root, our branch
_SOP_PLACEHOLDER_COMPONENT = "90000000"  # rendered as "9" + the mutant's number on 7 digits
PRIVATE_GROUP, PRIVATE_CREATOR = 0x0013, "ZQX FAULTS"
OCR_MODALITIES = frozenset({"US", "SC", "OT", "XC", "ES"})  # tcia.deid's `pixels where ... Modality in (...)`

# (source id, path): the real files the corpus is made from
SOURCES: tuple[tuple[str, Path], ...] = (
    ("samples-MRN40417-001", REPO / "samples" / "MRN40417" / "001.dcm"),  # CT, explicit LE
    ("samples-MRN40417-003", REPO / "samples" / "MRN40417" / "003.dcm"),  # MR, RLE
    ("samples-MRN40417-005", REPO / "samples" / "MRN40417" / "005.dcm"),  # MR, implicit LE
    ("samples-MRN58832-002", REPO / "samples" / "MRN58832" / "002.dcm"),  # MR, explicit LE
    ("samples-MRN58832-004", REPO / "samples" / "MRN58832" / "004.dcm"),  # MR, JPEG-LS
    ("samples-MRN58832-006", REPO / "samples" / "MRN58832" / "006.dcm"),  # OT, RLE
    ("pydicom-CT_small", TEST_FILES / "CT_small.dcm"),
    ("pydicom-MR_small", TEST_FILES / "MR_small.dcm"),
    ("pydicom-JPEG2000", TEST_FILES / "JPEG2000.dcm"),
    ("pydicom-image_dfl", TEST_FILES / "image_dfl.dcm"),  # deflated
    ("pydicom-MR_small_bigendian", TEST_FILES / "MR_small_bigendian.dcm"),
    ("pydicom-rtplan", TEST_FILES / "rtplan.dcm"),  # implicit LE, nested sequences, no pixels
    ("pydicom-SC_rgb_rle", TEST_FILES / "SC_rgb_rle.dcm"),
    ("deid-data-ctbrain1", DEID_DATA / "humans" / "ctbrain1.dcm"),  # JPEG baseline, many private tags
)
