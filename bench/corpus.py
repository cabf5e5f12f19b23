"""The benchmark corpus: synthetic 512x512 CT files carrying ~35 elements of fake PHI.

`file_values(i)` derives every planted value of corpus file i; `make_file` builds the file from
it and `planted_phi(i)` lists the same values, by kind, for the leftover-PHI check
(bench/phi_check.py). Files are CORPUS/PATnn/img_NNNNN.dcm, NNNNN being i.
"""

import datetime as dt
import re
import sys
import time
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from rich.console import Console

TEMPLATE = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
N_PATIENTS, STUDIES_PER_PATIENT, SIZE = 20, 2, 512
SURNAMES = ["Smith", "Müller", "Garcia", "Nguyen", "Okafor", "Kowalski", "Rossi", "Tanaka"]
GIVEN = ["Anna", "Björn", "Carlos", "Dana", "Emeka", "Fatima", "Giulia", "Hiro"]
FILE_INDEX = re.compile(r"img_(\d+)\.dcm$")
console = Console()


def uid(*parts: object) -> str:
    """Deterministic UID from a tuple of parts."""
    return generate_uid(entropy_srcs=["deidc-bench", *map(str, parts)])


def series_layout() -> list[tuple[int, int, int]]:
    """(patient, study, series) triples: 20 patients x 2 studies x 1-3 series."""
    return [(p, s, r) for p in range(N_PATIENTS) for s in range(STUDIES_PER_PATIENT)
            for r in range(1 + (p * STUDIES_PER_PATIENT + s) % 3)]


@dataclass(frozen=True)
class FileValues:
    """Everything identifying that corpus file i carries (plus its layout position)."""
    p: int
    s: int
    r: int
    instance: int
    name: str
    other_name: str
    pid: str
    mrns: tuple[str, str]
    birth_date: str
    address: str
    phone: str
    history: str
    acc: str
    study_id: str
    institution: str
    institution_address: str
    referring: str
    performing: str
    operators: tuple[str, str]
    study_description: str
    series_description: str
    image_comments: str
    date: str
    time: str
    station: str
    serial: str
    private_name: str
    private_id_name: str


def file_values(i: int) -> FileValues:
    """The planted values of corpus file i (deterministic)."""
    layout = series_layout()
    p, s, r = layout[i % len(layout)]
    name = f"{SURNAMES[p % 8]}^{GIVEN[(p * 3) % 8]}^{chr(65 + p)}"
    pid, acc = f"PAT{p:04d}-{p * 7919 % 10000:04d}", f"ACC{p:03d}{s}{r}-{(p + s) * 37}"
    date = (dt.date(2019, 1, 1) + dt.timedelta(days=p * 37 + s * 11)).strftime("%Y%m%d")
    phone = f"+1-555-01{p:02d}"
    return FileValues(
        p=p, s=s, r=r, instance=i // len(layout) + 1, name=name,
        other_name=f"{SURNAMES[(p + 1) % 8]}^{GIVEN[p % 8]}", pid=pid,
        mrns=(f"MRN{p:06d}", f"INS-{p * 131:07d}"), birth_date=f"{1940 + p}0{1 + p % 9}1{p % 10}",
        address=f"{p + 1} Elm Street, Springfield {10000 + p}", phone=phone,
        history=f"Patient {name} referred by Dr. Who, phone {phone}", acc=acc, study_id=f"S{p:02d}{s}",
        institution=f"St. Example Hospital {p % 4}", institution_address=f"{100 + p % 4} Main Road, Springfield",
        referring=f"Who^Doctor{p % 5}", performing=f"House^Greg{s}", operators=(f"Tech^Terry^{r}", "Tech^Toni"),
        study_description=f"CT CHEST for {name.split('^')[0]} ({pid})",
        series_description=f"Axial {['lung', 'soft tissue', 'bone'][r]} {date}",
        image_comments=f"Scanned {date} for {name}", date=date,
        time=f"{8 + r:02d}{(i * 7) % 60:02d}{i % 60:02d}.{i % 1000:03d}",
        station=f"CTSTN{p % 3}", serial=f"SN-{48213 + p % 3}",
        private_name=name.replace("^", " "), private_id_name=f"{pid} {name}")


def planted_phi(i: int) -> list[tuple[str, str]]:
    """(kind, value) for every identifying value planted in file i; person names are PN strings.

    Times are not listed (TCIA keeps them, and alone they identify no one); UIDs neither.
    """
    v = file_values(i)
    return [
        ("private block (name copies)", v.private_name), ("private block (name copies)", v.private_id_name),
        ("patient name", v.name), ("other patient names", v.other_name), ("patient ID", v.pid),
        ("other IDs / MRN", v.mrns[0]), ("other IDs / MRN", v.mrns[1]), ("birth date", v.birth_date),
        ("address", v.address), ("address", v.institution_address), ("phone", v.phone),
        ("accession / request IDs", v.acc), ("accession / request IDs", f"RP{v.acc}"),
        ("accession / request IDs", f"SPS{v.acc}"), ("study ID", v.study_id),
        ("institution", v.institution), ("physicians", v.referring), ("physicians", v.performing),
        ("operators", v.operators[0]), ("operators", v.operators[1]), ("station", v.station),
        ("serial number", v.serial), ("dates", v.date),
        ("patient name in free text", v.history), ("patient name in free text", v.study_description),
        ("patient name in free text", v.image_comments), ("date in description", v.series_description),
    ]


def ct_pixels(seed: int) -> np.ndarray:
    """A CT-like slice as stored values (rescale intercept -1024): air, a ~40 HU body, a bone disc, noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    hu = np.full((SIZE, SIZE), -1000.0, dtype=np.float32)
    hu[(yy - 256) ** 2 / 200**2 + (xx - 256) ** 2 / 230**2 <= 1] = 40.0
    hu[(yy - 330) ** 2 + (xx - 256 + seed % 40 - 20) ** 2 <= 30**2] = 700.0
    hu += rng.normal(0.0, 15.0, hu.shape).astype(np.float32)
    return np.clip(hu + 1024, -32768, 32767).astype(np.int16)


def set_phi(ds: Dataset, v: FileValues) -> None:
    """Write the planted values of v into ds."""
    p = v.p
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = v.name, v.pid, v.birth_date
    ds.PatientSex, ds.PatientAge, ds.PatientWeight = "FM"[p % 2], f"{79 - p:03d}Y", 55 + p
    ds.OtherPatientIDs, ds.OtherPatientNames = list(v.mrns), v.other_name
    ds.PatientAddress, ds.PatientTelephoneNumbers = v.address, v.phone
    ds.AdditionalPatientHistory = v.history
    ds.OtherPatientIDsSequence[0].PatientID = v.mrns[0]
    ds.AccessionNumber, ds.StudyID = v.acc, v.study_id
    ds.InstitutionName, ds.InstitutionalDepartmentName = v.institution, "Radiology"
    ds.InstitutionAddress = v.institution_address
    ds.ReferringPhysicianName, ds.PerformingPhysicianName = v.referring, v.performing
    ds.OperatorsName = list(v.operators)
    ds.StudyDescription, ds.SeriesDescription = v.study_description, v.series_description
    ds.ImageComments = v.image_comments
    for prefix in ("Study", "Series", "Acquisition", "Content", "InstanceCreation"):
        setattr(ds, f"{prefix}Date", v.date)
        setattr(ds, f"{prefix}Time", v.time)
    ds.StationName, ds.DeviceSerialNumber = v.station, v.serial
    req = Dataset()
    req.RequestedProcedureID, req.ScheduledProcedureStepID = f"RP{v.acc}", f"SPS{v.acc}"
    ds.RequestAttributesSequence = Sequence([req])
    block = ds.private_block(0x0009, "ACME 1.1", create=True)
    block.add_new(0x01, "LO", v.private_name)
    block.add_new(0x02, "LO", v.private_id_name)


def make_file(args: tuple[int, Path]) -> None:
    """Write corpus file number i under `root`."""
    i, root = args
    v = file_values(i)
    p, s, r = v.p, v.s, v.r
    study_uid, series_uid, sop_uid = uid("study", p, s), uid("series", p, s, r), uid("sop", i)
    ds = pydicom.dcmread(TEMPLATE)
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = sop_uid, study_uid, series_uid
    ds.FrameOfReferenceUID = uid("for", p, s, r)
    set_phi(ds, v)
    ds.SeriesNumber, ds.InstanceNumber, ds.SliceLocation = r + 1, v.instance, -5.0 * v.instance
    ds.ImagePositionPatient = [-169.3, -169.3, -5.0 * v.instance]
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = CTImageStorage, uid("scout", p, s, r)
    ds.ReferencedImageSequence = Sequence([ref])
    ds.Rows = ds.Columns = SIZE
    ds.PixelData = ct_pixels(i).tobytes()
    path = root / f"PAT{p:02d}" / f"img_{i:05d}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def file_index(path: Path) -> int:
    """Corpus index i of CORPUS/PATnn/img_NNNNN.dcm."""
    match = FILE_INDEX.search(path.name)
    if not match:
        raise ValueError(f"{path} is not a corpus file (img_NNNNN.dcm)")
    return int(match.group(1))


def build_corpus(root: Path, n: int, workers: int) -> list[Path]:
    """Reuse root if it already holds exactly n .dcm files, else generate them into it."""
    existing = sorted(root.rglob("*.dcm"))
    if len(existing) == n:
        console.print(f"Reusing corpus {root} ({n} files)")
        return existing
    if existing:
        sys.exit(f"error: {root} holds {len(existing)} .dcm files, not {n}; use an empty dir or --files {len(existing)}")
    start = time.perf_counter()
    with console.status(f"Generating {n} files into {root} ..."), Pool(max(workers, 1)) as pool:
        pool.map(make_file, [(i, root) for i in range(n)], chunksize=16)
    console.print(f"Generated {n} files into {root} in {time.perf_counter() - start:.1f}s")
    return sorted(root.rglob("*.dcm"))
