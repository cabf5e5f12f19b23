"""The tools bench/throughput.py measures: deidc's rows, the floors and the peer tools.

Each `Tool` is a command line for one child process, or a reason it cannot run here. Python
peers run through bench/drive.py under the interpreter that has them: VENVS/<tool>/bin/python
when that venv exists (a peer whose pins conflict with deidc's, see `make bench`), else the
interpreter running the benchmark, where a missing peer is reported as "not installed".
"""

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DRIVE = BENCH / "drive.py"
E1_TABLE = REPO / "rulesets" / "ps3.15-table-e1-1.json"
PYTHON_PEERS = ["dicognito", "dicom-anonymizer", "deid", "idiscore", "dcmanon"]
PEER_NOTES = {  # what the row cannot show by itself
    "deid": "default recipe; its RSS grows with the run (deid.dicom.fields lru_caches every dataset)",
}
ALL_TOOLS = ["deidc-fast", "deidc-reference", "deidc-fast-w2", "floor-pydicom", "floor-raw",
             *PYTHON_PEERS, "gdcmanon"]

Argv = Callable[[Path, Path], list[str]]  # (out dir, summary json) -> command


@dataclass
class Tool:
    """One row of the benchmark: how to run it, or why it cannot run."""
    name: str
    argv: Argv | None = None
    version: str = ""
    skip: str = ""
    limit: int | None = None
    note: str = ""


def deidc_tools(exe: Path, rules: Path, corpus: Path) -> list[Tool]:
    """deidc fast, reference and fast with 2 workers (default engine while --codec is missing)."""
    names = ["deidc-fast", "deidc-reference", "deidc-fast-w2"]
    if not exe.exists():
        return [Tool(n, skip=f"deidc not installed in this venv ({exe})") for n in names]
    if not rules.is_file():
        return [Tool(n, skip=f"rules file not found: {rules}") for n in names]
    help_text = subprocess.run([str(exe), "apply", "--help"], capture_output=True, text=True).stdout
    version = importlib.metadata.version("deidc")

    def argv(workers: int, codec: str | None) -> Argv:
        extra = ["--codec", codec] if codec else []
        return lambda out, _summary: [str(exe), "apply", str(rules), str(corpus), "-o", str(out),
                                      "--workers", str(workers), "--insecure-demo-key", "--no-progress", *extra]
    if "--codec" in help_text:
        return [Tool("deidc-fast", argv(1, "fast"), version), Tool("deidc-reference", argv(1, "reference"), version),
                Tool("deidc-fast-w2", argv(2, "fast"), version)]
    no_codec = "no --codec in `deidc apply --help` yet: default engine"
    return [Tool("deidc-fast", argv(1, None), version, note=no_codec),
            Tool("deidc-reference", skip="no --codec in `deidc apply --help` yet: skipped"),
            Tool("deidc-fast-w2", argv(2, None), version, note=no_codec)]


def drive_argv(python: Path, tool: str, corpus: Path, limit: int | None) -> Argv:
    """Command running bench/drive.py for one tool."""
    extra = ["--limit", str(limit)] if limit else []
    return lambda out, summary: [str(python), str(DRIVE), tool, str(corpus), str(out),
                                 "--summary", str(summary), *extra]


def probe(python: Path, tool: str) -> tuple[str, str]:
    """(version, "") when drive.py can load the tool under python, else ("", reason)."""
    proc = subprocess.run([str(python), str(DRIVE), tool, "--version"], capture_output=True, text=True)
    text = (proc.stdout or proc.stderr).strip().splitlines()
    last = text[-1] if text else f"exit {proc.returncode}"
    return (last, "") if proc.returncode == 0 else ("", last)


def floor_tools(corpus: Path) -> list[Tool]:
    """The two floors, in the benchmark's own interpreter."""
    python = Path(sys.executable)
    return [Tool("floor-pydicom", drive_argv(python, "floor-pydicom", corpus, None), note="read + write unchanged"),
            Tool("floor-raw", drive_argv(python, "floor-raw", corpus, None),
                 note="bytes copied: must leak in every file")]


def python_peer(name: str, corpus: Path, venvs: Path, limit: int | None) -> Tool:
    """A Python peer, from its own venv when there is one, else from this interpreter."""
    own = venvs / name / "bin" / "python"
    python = own if own.exists() else Path(sys.executable)
    version, reason = probe(python, name)
    if reason:
        return Tool(name, skip=f"not installed ({reason})" if "ModuleNotFound" in reason else reason)
    venv = (venvs / name).resolve()
    notes = [PEER_NOTES.get(name, "")]
    if own.exists():
        notes.append(f"own venv {venv.relative_to(REPO) if venv.is_relative_to(REPO) else venv}")
    return Tool(name, drive_argv(python, name, corpus, limit), version, limit=limit, note="; ".join(filter(None, notes)))


def gdcm_dumb_ops() -> list[str]:
    """gdcmanon --dumb operations for PS3.15 Table E.1-1's basic profile: every X, Z or D tag removed.

    Removed, not emptied: gdcm 3.0 refuses --empty on a sequence or a tag its dictionary lacks
    (e.g. 0018,11BB), which aborts the whole run. U (UIDs) and ranges (50xx,...) have no
    dumb-mode equivalent, nor has "remove all private tags".
    """
    ops = []
    for row in json.loads(E1_TABLE.read_text()):
        tag, action = row.get("id", ""), row.get("basicProfile", "")
        if re.fullmatch(r"[0-9a-f]{8}", tag.lower()) and not tag.startswith("0002") and re.search("[XZD]", action):
            ops += ["--remove", f"{tag[:4]},{tag[4:]}"]
    return ops


def gdcm_tool(corpus: Path) -> Tool:
    """gdcmanon's certificate-free dumb mode over the corpus directory (recursive)."""
    exe = shutil.which("gdcmanon")
    if not exe:
        return Tool("gdcmanon", skip="not installed (apt-get install libgdcm-tools)")
    if not E1_TABLE.is_file():
        return Tool("gdcmanon", skip=f"needs {E1_TABLE.relative_to(REPO)} for its tag list")
    banner = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"gdcm ([\d.]+)", banner)
    ops = gdcm_dumb_ops()
    note = (f"--dumb: {len(ops) // 2} E.1-1 X/Z/D tags removed (top level); no UID remap, "
            "private tags kept (-e needs a certificate)")
    return Tool("gdcmanon", lambda out, _s: [exe, "--dumb", "-r", "--continue", "-i", str(corpus), "-o", str(out), *ops],
                match.group(1) if match else "?", note=note)


def all_tools(exe: Path, rules: Path, corpus: Path, venvs: Path, peer_files: int | None,
              only: list[str]) -> list[Tool]:
    """Every tool of ALL_TOOLS that --only selects, in table order (unselected ones are not probed)."""
    wanted = set(only or ALL_TOOLS)
    tools: list[Tool] = []
    if wanted & {"deidc-fast", "deidc-reference", "deidc-fast-w2"}:
        tools += deidc_tools(exe, rules, corpus)
    tools += floor_tools(corpus)
    tools += [python_peer(name, corpus, venvs, peer_files) for name in PYTHON_PEERS if name in wanted]
    if "gdcmanon" in wanted:
        tools.append(gdcm_tool(corpus))
    return [t for t in tools if t.name in wanted]
