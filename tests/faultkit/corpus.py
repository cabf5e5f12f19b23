"""The corpora written to disk: a seeded corpus of mutants (every mutation on the bases, with a JSON
manifest next to the folder), and a corpus of valid files for the kill and full-disk tests.

In: a folder, a count and a seed (plus which mutations, how many heavy ones, OCR modalities,
controls; or for valid files how many are broken).
Out: `make_corpus` -> the `Mutant`s it wrote (and `<folder>.json`); `load_corpus` -> the `Mutant`s
of a manifest; `valid_corpus` -> the paths it wrote. The same seed gives byte-identical files.
"""
from __future__ import annotations

import io
import json
import random
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pydicom

from faultkit.ambiguity import ambiguity
from faultkit.bases import Base, bases
from faultkit.mutations import BY_NAME, MUTATIONS, Mutation
from faultkit.sources import _UID_ROOT, MARKER

# ---- the corpus ----------------------------------------------------------------------------------

@dataclass
class Mutant:
    file: str  # path relative to the corpus folder
    number: int
    source: str
    mutation: str
    detail: str
    marker: str  # "ZQXMARKER" + 7 digits, planted in this file's values
    expect_written: bool
    ambiguous: dict[str, str] = field(default_factory=dict)
    size: int = 0

    def ambiguous_for(self, ruleset: str) -> str:
        return self.ambiguous.get("*") or self.ambiguous.get(ruleset, "")


def make_corpus(folder: Path, count: int, seed: int, *, heavy: int | None = 1, ocr: bool = False,
                mutations: Iterable[str] | None = None, controls: bool = True,
                skip_ambiguity: Iterable[str] = ("bomb",)) -> list[Mutant]:
    """Write `count` mutated files into `folder` (one sub-folder per source) and `<folder>.json`.

    The same seed gives the same bytes. Mutations take turns (each round in a seeded order), each
    on a base it applies to; a heavy mutation appears at most `heavy` times (None: no limit).
    `controls`: the first files are the unmutated bases. `skip_ambiguity`: mutations whose
    output is not re-read for the ambiguity check (a bomb is not inflated here)."""
    rng = random.Random(seed)
    pool = bases(ocr)
    names = [m.name for m in MUTATIONS if m.name != "none"] if mutations is None else list(mutations)
    chosen = [BY_NAME[n] for n in names]
    skip = set(skip_ambiguity)
    made: list[Mutant] = []
    queue: list[tuple[Mutation, list[Base]]] = [(BY_NAME["none"], [b]) for b in pool] if controls else []
    used: dict[str, int] = {}
    fits_nothing: set[str] = set()
    folder.mkdir(parents=True, exist_ok=True)
    while len(made) < count:
        if not queue:  # a new round: every mutation still available, in a seeded order
            round_ = [m for m in chosen if m.name not in fits_nothing
                      and not (m.heavy and heavy is not None and used.get(m.name, 0) >= heavy)]
            if not round_:
                break
            rng.shuffle(round_)
            queue = [(m, rng.sample(pool, len(pool))) for m in round_]
        mutation, candidates = queue.pop(0)
        number = len(made) + 1
        for base in candidates:
            head, body = base.render(number)
            result = mutation.make(rng, base, head, body)
            if result is None:
                continue
            data, detail = result
            relative = f"{base.name}/{number:05d}-{mutation.name}.dcm"
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            marker = (MARKER + b"%07d" % number).decode()
            ambiguous = {} if mutation.name in skip else ambiguity(data, base)
            made.append(Mutant(relative, number, base.name, mutation.name, detail, marker,
                               mutation.expect_written, ambiguous, len(data)))
            used[mutation.name] = used.get(mutation.name, 0) + 1
            break
        else:
            fits_nothing.add(mutation.name)
    manifest = folder.with_suffix(".json")
    manifest.write_text(json.dumps([asdict(m) for m in made], indent=1))
    return made


def load_corpus(folder: Path) -> list[Mutant]:
    return [Mutant(**record) for record in json.loads(folder.with_suffix(".json").read_text())]


# ---- a corpus of valid files for the kill and full-disk tests ------------------------------------

def valid_corpus(folder: Path, count: int, seed: int = 0, broken: int = 4) -> list[Path]:
    """`count` files: valid copies of the real sources, each a distinct instance (patients, studies,
    series and SOP Instance UIDs derived from the seed), and `broken` of them cut short or not
    DICOM, so the run also quarantines. Every StudyDescription names its patient, and every fifth
    file has no PatientName: tcia.deid can clean those only with the PHI it collected from the
    patient's other files (a resumed run must collect it again). Deterministic for a seed."""
    rng = random.Random(seed)
    sources = [b for b in bases(ocr=False) if b.explicit_le or b.syntax.implicit]
    datasets = []
    for base in sources:
        head, body = base.render(1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            datasets.append(pydicom.dcmread(io.BytesIO(base.file(head, body))))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    patients = max(1, count // 25)
    for number in range(count - broken):
        source = datasets[number % len(datasets)]
        ds = source.copy()
        ds.file_meta = source.file_meta.copy()
        patient = rng.randrange(patients)
        study = rng.randrange(2)
        ds.PatientID = f"KILLPAT{patient:03d}"
        ds.PatientName = f"KILLROY^PATIENT{patient:03d}"
        if number % 5 == 4:
            del ds.PatientName
        ds.StudyDescription = f"CT FOR KILLROY PATIENT{patient:03d}"
        ds.StudyInstanceUID = f"{_UID_ROOT}.{seed}.1.{patient}.{study}"
        ds.SeriesInstanceUID = f"{_UID_ROOT}.{seed}.2.{patient}.{study}.{number % len(datasets)}"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{_UID_ROOT}.{seed}.3.{number}"
        ds.InstanceNumber = number
        path = folder / f"patient{patient:03d}" / f"{number:05d}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(path, enforce_file_format=True)
        written.append(path)
    for number in range(broken):
        path = folder / "broken" / f"{number:03d}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        good = written[rng.randrange(len(written))].read_bytes()
        path.write_bytes(good[:rng.randrange(200, len(good) - 1)] if number % 2 == 0 else b"not a DICOM file\n")
        written.append(path)
    return written
