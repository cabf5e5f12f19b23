"""The stages import one way: dsl <- compiler <- runtime <- tools (and commands on top), and inside
the runtime its sub-packages do too: text, pixels <- codec <- interpret <- batch (audit.py and
limits.py, at the runtime's top, are shared by all). Below them all, dicom.py (DICOM facts taken
from pydicom) imports no deidc module. A module of a lower layer that imports a higher one (at
module level or inside a function) fails here."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every deidc package and module of the package's root (deidc.X).
EVERY_MODULE = frozenset({p.parent.name for p in ROOT.glob("*/__init__.py")} | {p.stem for p in ROOT.glob("*.py")})
# package (a folder, or a module of the root: dicom.py) -> the deidc packages and modules it must not import
FORBIDDEN = {
    "dicom.py": EVERY_MODULE,
    "dsl": {"compiler", "runtime", "tools", "commands", "scoring"},
    "compiler": {"runtime", "tools", "commands", "scoring"},
    "runtime": {"tools", "commands", "scoring"},
    "tools": {"commands"},
}


# runtime sub-package -> the runtime sub-packages it must not import
RUNTIME_FORBIDDEN = {
    "text": {"pixels", "codec", "interpret", "batch"},
    "pixels": {"codec", "interpret", "batch"},
    "codec": {"interpret", "batch"},
    "interpret": {"batch"},
}


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deidc."):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}  # `from deidc.runtime import batch`
        elif isinstance(node, ast.ImportFrom) and node.module == "deidc":  # `from deidc import dicom`
            found |= {f"deidc.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("deidc.")}
    return found


def _imports(path: Path, level: int = 1) -> set[str]:
    """The deidc packages (level 1: deidc.X) or runtime sub-packages (level 2) `path` imports."""
    prefix = "deidc." if level == 1 else "deidc.runtime."
    return {module.split(".")[level] for module in _imported_modules(path)
            if module.startswith(prefix) and len(module.split(".")) > level}


def _files(package: str) -> list[Path]:
    """The modules of a package (a folder), or the module itself (a .py file of the root)."""
    path = ROOT / package
    return [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


def test_no_stage_imports_a_later_one():
    wrong = [f"{path.relative_to(ROOT)} imports deidc.{name}"
             for package, forbidden in FORBIDDEN.items()
             for path in _files(package)
             for name in sorted(_imports(path) & forbidden)]
    assert wrong == []


def test_every_layer_has_modules_to_check():
    """A misspelt key would check nothing."""
    assert all(_files(package) for package in FORBIDDEN)
    assert all((ROOT / package).exists() for package in FORBIDDEN)


def test_runtime_subpackages_import_one_way():
    wrong = [f"{path.relative_to(ROOT)} imports deidc.runtime.{name}"
             for package, forbidden in RUNTIME_FORBIDDEN.items()
             for path in sorted((ROOT / "runtime" / package).rglob("*.py"))
             for name in sorted(_imports(path, level=2) & forbidden)]
    assert wrong == []


def test_every_runtime_subpackage_has_a_place_in_the_order():
    subpackages = {p.name for p in (ROOT / "runtime").iterdir() if (p / "__init__.py").exists()}
    assert subpackages == set(RUNTIME_FORBIDDEN) | {"batch"}
