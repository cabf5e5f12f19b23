"""Build the bundled sample data in samples/ (used by `make demo`).

In: real images shipped by pydicom (its data/test_files folder, read from the installed package).
Out: samples/<patient>/<n>.dcm — the same pixel data and transfer syntaxes, with headers carrying
synthetic PHI: names, IDs, dates, an institution, a referenced-image sequence, a nested request
sequence and a private block. Two synthetic patients; nothing here describes a real person.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
SAMPLES = ROOT / "samples"

SOURCES = ["CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm",
           "MR_small_implicit.dcm", "SC_rgb_rle.dcm"]
PATIENTS = [
    ("DOE^JANE", "MRN40417", "19620314", "ACC771"),
    ("ROE^RICHARD^A", "MRN58832", "19750902", "ACC912"),
]


def _uid(*parts: str) -> str:
    return generate_uid(entropy_srcs=["deidc-samples", *parts])


def make_sample(source: Path, patient: tuple[str, str, str, str], index: int) -> Dataset:
    name, mrn, birth, accession = patient
    ds = pydicom.dcmread(source)
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = name, mrn, birth
    ds.OtherPatientIDs = [f"{mrn}-OLD", "SSN-123-45-6789"]
    ds.AccessionNumber = accession
    ds.InstitutionName = "St. Example General Hospital"
    ds.ReferringPhysicianName = "WELBY^MARCUS"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20210611"
    ds.StudyTime = "101523.250"
    ds.StudyDescription = f"MRI BRAIN for {name.split('^')[0]}"
    ds.StudyInstanceUID = _uid(mrn, "study")
    ds.SeriesInstanceUID = _uid(mrn, "series", source.name)
    ds.SOPInstanceUID = _uid(mrn, "instance", source.name)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = _uid(mrn, "referenced", source.name)
    ds.ReferencedImageSequence = [ref]
    request = Dataset()
    request.RequestedProcedureID = f"RP-{mrn}"
    request.ScheduledProcedureStepID = f"SPS-{index}"
    ds.RequestAttributesSequence = [request]
    block = ds.private_block(0x0009, "ACME SAMPLE 1.0", create=True)
    block.add_new(0x01, "LO", name)
    block.add_new(0x02, "DA", birth)
    return ds


def main() -> None:
    if SAMPLES.exists():
        shutil.rmtree(SAMPLES)
    for index, source in enumerate(SOURCES):
        patient = PATIENTS[index % len(PATIENTS)]
        ds = make_sample(TEST_FILES / source, patient, index)
        out = SAMPLES / patient[1] / f"{index + 1:03d}.dcm"
        out.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(out, enforce_file_format=True)
        print(f"{out.relative_to(ROOT)}  from {source} ({ds.file_meta.TransferSyntaxUID.name})")
    (SAMPLES / "README.txt").write_text("Not DICOM: the demo shows that such files are quarantined, not dropped.\n")


if __name__ == "__main__":
    main()
