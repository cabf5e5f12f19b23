"""Child-process drivers for bench/throughput.py: one tool, one process, over a corpus.

Each run is its own child process of throughput.py, so its rusage (CPU, peak RSS) is its own.
It runs under whichever interpreter has the tool installed (the bench venv, a peer's own venv
under bench/.venvs/, or the plain .venv for the floors), so it imports only the standard
library and the tool. Every output goes to OUT at the input's path relative to CORPUS.

    python bench/drive.py TOOL CORPUS OUT [--limit N] [--summary JSON]
    python bench/drive.py TOOL --version     # prints the version; exit 3 if not installed
"""

import argparse
import importlib.metadata
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

Transform = Callable[[Path, Path], None]


def select_files(corpus: Path, limit: int | None) -> list[Path]:
    """The corpus files, or `limit` of them spread evenly over the sorted list."""
    files = sorted(corpus.rglob("*.dcm"))
    if limit is None or limit >= len(files):
        return files
    return [files[j * len(files) // limit] for j in range(limit)]


def raw_copy() -> Transform:
    """Floor: read the bytes and write them back, no parsing."""
    def run(src: Path, dst: Path) -> None:
        dst.write_bytes(src.read_bytes())
    return run


def pydicom_rw() -> Transform:
    """Floor: pydicom reads the file and writes it back unchanged."""
    import pydicom

    def run(src: Path, dst: Path) -> None:
        pydicom.dcmread(src).save_as(dst)
    return run


def dicognito() -> Transform:
    """dicognito's defaults; one Anonymizer for the run (consistent pseudonyms, as its CLI does)."""
    import pydicom
    from dicognito.anonymizer import Anonymizer
    anonymizer = Anonymizer()

    def run(src: Path, dst: Path) -> None:
        ds = pydicom.dcmread(src)
        anonymizer.anonymize(ds)
        ds.save_as(dst)
    return run


def dicom_anonymizer() -> Transform:
    """dicom-anonymizer's default rules (its CLI's per-file call); private tags deleted."""
    from dicomanonymizer import anonymize_dicom_file

    def run(src: Path, dst: Path) -> None:
        anonymize_dicom_file(str(src), str(dst))
    return run


def deid() -> Transform:
    """pydicom/deid with its default recipe (deid.dicom), as `replace_identifiers(save=True)`."""
    from deid.config import DeidRecipe
    from deid.dicom import replace_identifiers
    recipe = DeidRecipe()

    def run(src: Path, dst: Path) -> None:
        replace_identifiers([str(src)], deid=recipe, save=True, output_folder=str(dst.parent), overwrite=True)
    return run


def idiscore() -> Transform:
    """idiscore's default core (basic profile + clean descriptors + retain patient chars/device/safe private)."""
    import pydicom
    from idiscore.defaults import create_default_core
    core = create_default_core()

    def run(src: Path, dst: Path) -> None:
        core.deidentify(pydicom.dcmread(src)).save_as(dst)
    return run


def dcmanon() -> Transform:
    """dcmanon (Rust) with its default config; returns the output bytes, written here."""
    from dcmanon import Anonymizer
    anonymizer = Anonymizer()

    def run(src: Path, dst: Path) -> None:
        dst.write_bytes(anonymizer.anonymize(str(src)))
    return run


# tool name -> (driver factory, distribution whose version is reported)
TOOLS: dict[str, tuple[Callable[[], Transform], str | None]] = {
    "floor-raw": (raw_copy, None), "floor-pydicom": (pydicom_rw, "pydicom"),
    "dicognito": (dicognito, "dicognito"), "dicom-anonymizer": (dicom_anonymizer, "dicom-anonymizer"),
    "deid": (deid, "deid"), "idiscore": (idiscore, "idiscore"), "dcmanon": (dcmanon, "dcmanon"),
}


def version(tool: str) -> int:
    """Print the tool's version after checking it imports; 3 when it is not installed."""
    factory, dist = TOOLS[tool]
    try:
        factory()
        print(importlib.metadata.version(dist) if dist else f"Python {sys.version.split()[0]}")
        return 0
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"
        print(f"{type(exc).__name__}: {exc}".splitlines()[0][:160])
        return 3


def drive(tool: str, corpus: Path, out: Path, limit: int | None, summary: Path | None) -> int:
    """Run the tool over the corpus; per-file failures are counted, the first one reported."""
    run = TOOLS[tool][0]()
    files = select_files(corpus, limit)
    done, failed, first_error = 0, 0, ""
    for src in files:
        dst = out / src.relative_to(corpus)
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            run(src, dst)
            done += 1
        except Exception as exc:  # noqa: BLE001 - a peer's failure is a result, not a crash
            failed += 1
            if not first_error:
                first_error = f"{src.name}: {type(exc).__name__}: {exc}".splitlines()[0][:200]
                traceback.print_exc()
    result = {"files": len(files), "done": done, "failed": failed, "first_error": first_error}
    if summary:
        summary.write_text(json.dumps(result))
    return 0 if done else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tool", choices=sorted(TOOLS))
    ap.add_argument("corpus", type=Path, nargs="?")
    ap.add_argument("out", type=Path, nargs="?")
    ap.add_argument("--limit", type=int, help="run on this many files, spread over the corpus")
    ap.add_argument("--summary", type=Path, help="write {files, done, failed, first_error} here")
    ap.add_argument("--version", action="store_true", help="print the tool's version and exit")
    args = ap.parse_args()
    if args.version:
        return version(args.tool)
    if args.corpus is None or args.out is None:
        ap.error("CORPUS and OUT are required")
    return drive(args.tool, args.corpus, args.out, args.limit, args.summary)


if __name__ == "__main__":
    sys.exit(main())
