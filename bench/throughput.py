"""Throughput benchmark: `deidc apply` against a plain pydicom read/write floor.

Builds (or reuses) a corpus of synthetic 512x512 CT images carrying ~35 elements
of fake PHI, then times (wall clock, best of --repeat), with the same --workers N:
* floor -- pydicom reads every file and writes it back unchanged (Pool(N) if N > 1);
* deidc -- `deidc apply RULES CORPUS -o OUT --workers N --insecure-demo-key`
           as a subprocess, including interpreter start-up.

    .venv/bin/python bench/throughput.py                       # 2000 files, 1 worker
    .venv/bin/python bench/throughput.py --files 50 --workers 2
    .venv/bin/python bench/throughput.py --corpus /tmp/ct2000  # reuse a corpus
"""

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
N_PATIENTS, STUDIES_PER_PATIENT, SIZE = 20, 2, 512
SURNAMES = ["Smith", "Müller", "Garcia", "Nguyen", "Okafor", "Kowalski", "Rossi", "Tanaka"]
GIVEN = ["Anna", "Björn", "Carlos", "Dana", "Emeka", "Fatima", "Giulia", "Hiro"]
console = Console()


def uid(*parts: object) -> str:
    """Deterministic UID from a tuple of parts."""
    return generate_uid(entropy_srcs=["deidc-bench", *map(str, parts)])


def series_layout() -> list[tuple[int, int, int]]:
    """(patient, study, series) triples: 20 patients x 2 studies x 1-3 series."""
    return [(p, s, r) for p in range(N_PATIENTS) for s in range(STUDIES_PER_PATIENT)
            for r in range(1 + (p * STUDIES_PER_PATIENT + s) % 3)]


def ct_pixels(seed: int) -> np.ndarray:
    """A CT-like slice as stored values (rescale intercept -1024): air, a ~40 HU body, a bone disc, noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    hu = np.full((SIZE, SIZE), -1000.0, dtype=np.float32)
    hu[(yy - 256) ** 2 / 200**2 + (xx - 256) ** 2 / 230**2 <= 1] = 40.0
    hu[(yy - 330) ** 2 + (xx - 256 + seed % 40 - 20) ** 2 <= 30**2] = 700.0
    hu += rng.normal(0.0, 15.0, hu.shape).astype(np.float32)
    return np.clip(hu + 1024, -32768, 32767).astype(np.int16)


def make_file(args: tuple[int, Path]) -> None:
    """Write corpus file number i under `root`."""
    i, root = args
    layout = series_layout()
    p, s, r = layout[i % len(layout)]
    instance = i // len(layout) + 1
    name = f"{SURNAMES[p % 8]}^{GIVEN[(p * 3) % 8]}^{chr(65 + p)}"
    pid, acc = f"PAT{p:04d}-{p * 7919 % 10000:04d}", f"ACC{p:03d}{s}{r}-{(p + s) * 37}"
    day = dt.date(2019, 1, 1) + dt.timedelta(days=p * 37 + s * 11)
    date, time_ = day.strftime("%Y%m%d"), f"{8 + r:02d}{(i * 7) % 60:02d}{i % 60:02d}.{i % 1000:03d}"
    study_uid, series_uid, sop_uid = uid("study", p, s), uid("series", p, s, r), uid("sop", i)

    ds = pydicom.dcmread(TEMPLATE)
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = sop_uid, study_uid, series_uid
    ds.FrameOfReferenceUID = uid("for", p, s, r)
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = name, pid, f"{1940 + p}0{1 + p % 9}1{p % 10}"
    ds.PatientSex, ds.PatientAge, ds.PatientWeight = "FM"[p % 2], f"{79 - p:03d}Y", 55 + p
    ds.OtherPatientIDs = [f"MRN{p:06d}", f"INS-{p * 131:07d}"]
    ds.OtherPatientNames = f"{SURNAMES[(p + 1) % 8]}^{GIVEN[p % 8]}"
    ds.PatientAddress = f"{p + 1} Elm Street, Springfield {10000 + p}"
    ds.PatientTelephoneNumbers = f"+1-555-01{p:02d}"
    ds.AdditionalPatientHistory = f"Patient {name} referred by Dr. Who, phone +1-555-01{p:02d}"
    ds.OtherPatientIDsSequence[0].PatientID = f"MRN{p:06d}"
    ds.AccessionNumber, ds.StudyID = acc, f"S{p:02d}{s}"
    ds.InstitutionName, ds.InstitutionalDepartmentName = f"St. Example Hospital {p % 4}", "Radiology"
    ds.InstitutionAddress = f"{100 + p % 4} Main Road, Springfield"
    ds.ReferringPhysicianName, ds.PerformingPhysicianName = f"Who^Doctor{p % 5}", f"House^Greg{s}"
    ds.OperatorsName = [f"Tech^Terry^{r}", "Tech^Toni"]
    ds.StudyDescription = f"CT CHEST for {name.split('^')[0]} ({pid})"
    ds.SeriesDescription = f"Axial {['lung', 'soft tissue', 'bone'][r]} {date}"
    ds.ImageComments = f"Scanned {date} for {name}"
    for prefix in ("Study", "Series", "Acquisition", "Content", "InstanceCreation"):
        setattr(ds, f"{prefix}Date", date)
        setattr(ds, f"{prefix}Time", time_)
    ds.StationName, ds.DeviceSerialNumber = f"CTSTN{p % 3}", f"SN-{48213 + p % 3}"
    ds.SeriesNumber, ds.InstanceNumber, ds.SliceLocation = r + 1, instance, -5.0 * instance
    ds.ImagePositionPatient = [-169.3, -169.3, -5.0 * instance]
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = CTImageStorage, uid("scout", p, s, r)
    ds.ReferencedImageSequence = Sequence([ref])
    req = Dataset()
    req.RequestedProcedureID, req.ScheduledProcedureStepID = f"RP{acc}", f"SPS{acc}"
    ds.RequestAttributesSequence = Sequence([req])
    block = ds.private_block(0x0009, "ACME 1.1", create=True)
    block.add_new(0x01, "LO", name.replace("^", " "))
    block.add_new(0x02, "LO", f"{pid} {name}")
    ds.Rows = ds.Columns = SIZE
    ds.PixelData = ct_pixels(i).tobytes()

    path = root / f"PAT{p:02d}" / f"img_{i:05d}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


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


def copy_one(job: tuple[Path, Path]) -> None:
    """Floor work unit: read a file and write it back unchanged."""
    src, dst = job
    ds = pydicom.dcmread(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dst)


def run_floor(files: list[Path], corpus: Path, out: Path, workers: int) -> float:
    """Time the read/write floor; returns wall-clock seconds."""
    jobs = [(f, out / f.relative_to(corpus)) for f in files]
    start = time.perf_counter()
    if workers <= 1:
        for job in jobs:
            copy_one(job)
    else:
        with Pool(workers) as pool:
            pool.map(copy_one, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
    return time.perf_counter() - start


def run_deidc(exe: Path, rules: Path, corpus: Path, out: Path, workers: int, verbose: bool) -> float:
    """Time `deidc apply` as a subprocess; raises RuntimeError with its stderr on failure."""
    cmd = [str(exe), "apply", str(rules), str(corpus), "-o", str(out),
           "--workers", str(workers), "--insecure-demo-key"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"`{' '.join(cmd)}` exited with {proc.returncode}:\n{tail}")
    if verbose:
        console.print(proc.stdout.rstrip(), markup=False, highlight=False)
    return elapsed


def count_outputs(out: Path) -> int:
    """Output .dcm files under out, excluding out/mappings."""
    return sum(1 for f in out.rglob("*.dcm") if "mappings" not in f.relative_to(out).parts[:1])


def best_of(repeat: int, fn: Callable[[Path], float], out: Path) -> float:
    """Run fn(out) repeat times on a fresh (non-existent) out dir; best wall-clock seconds."""
    times = []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)  # deidc gets a fresh, non-existent OUT
        times.append(fn(out))
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000, help="corpus size (default 2000)")
    ap.add_argument("--workers", type=int, default=1, help="processes for both floor and deidc (default 1)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement, best kept (default 1)")
    ap.add_argument("--rules", type=Path, default=REPO / "rulesets" / "ps3.15-basic.deid")
    ap.add_argument("--corpus", type=Path, help="corpus dir, reused if it holds --files .dcm files")
    ap.add_argument("--workdir", type=Path, help="where temp corpus/outputs go (default: system temp)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print deidc's own summary")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="deidc-bench-", dir=args.workdir))
    try:
        corpus = args.corpus or tmp / "corpus"
        files = build_corpus(corpus, args.files, args.workers)
        in_bytes = sum(len(f.read_bytes()) for f in files)  # also warms the page cache
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        console.print(f"[bold]deidc throughput[/] | {len(files)} files, {in_bytes / 1e6:.0f} MB | "
                      f"workers {args.workers} | CPUs {os.cpu_count()} | load avg {load} | "
                      f"pydicom {pydicom.__version__}, Python {sys.version.split()[0]}")

        floor_s = best_of(args.repeat, lambda o: run_floor(files, corpus, o, args.workers), tmp / "floor-out")
        shutil.rmtree(tmp / "floor-out", ignore_errors=True)
        rows: list[tuple[str, float]] = [("floor (pydicom r/w)", floor_s)]

        deidc_s, error, out = None, None, tmp / "deidc-out"
        exe = Path(sys.executable).parent / "deidc"
        if not exe.exists():
            error = f"deidc executable not found at {exe} (is the package installed in this venv?)"
        elif not args.rules.is_file():
            error = f"rules file not found: {args.rules} (use --rules)"
        else:
            try:
                deidc_s = best_of(args.repeat, lambda o: run_deidc(
                    exe, args.rules, corpus, o, args.workers, args.verbose), out)
                rows.append((f"deidc apply {args.rules.name}", deidc_s))
            except (RuntimeError, OSError) as exc:
                error = str(exc)

        table = Table(title=f"best of {args.repeat}, wall clock, {args.workers} worker(s); "
                            "MB/s = input MB (1e6 B) / s")
        for col in ("tool", "files", "secs", "files/s", "MB/s", "vs floor"):
            table.add_column(col, justify="left" if col == "tool" else "right", no_wrap=True)
        for tool, secs in rows:
            table.add_row(tool, str(len(files)), f"{secs:.2f}", f"{len(files) / secs:.1f}",
                          f"{in_bytes / 1e6 / secs:.1f}", f"{floor_s / secs:.2f}x")
        console.print(table)

        if error:
            console.print(f"[bold red]deidc run failed:[/] {error}", highlight=False)
            sys.exit(1)
        n_out = count_outputs(out)
        ok = n_out == len(files)
        console.print(f"output .dcm files: {n_out} / input files: {len(files)} "
                      + ("[green]OK[/]" if ok else "[bold red]MISMATCH -- WARNING: deidc lost or added files![/]"))
        console.print(f"[bold]deidc/floor ratio: {floor_s / deidc_s:.2f}x (target >= 0.60x)[/]")
        if not ok:
            sys.exit(2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
