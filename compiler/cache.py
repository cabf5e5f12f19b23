"""Compiled Plans cached on disk, as Python caches bytecode: the TCIA ruleset (6,000+ rules)
compiles in about 0.7 s and loads from the cache in a few hundredths of a second, which every
`deidc apply` pays.

In: a rule file and its options. Out: the same `CompileResult` `compile_rules` gives — from the
cache when it is still exactly what a compile would give, else compiled anew and stored. The cache
lives in $DEIDC_CACHE, else $XDG_CACHE_HOME/deidc, else ~/.cache/deidc; DEIDC_CACHE=off turns it
off. A cache that cannot be read or written is ignored, never an error.

Never stale. An entry's name is a hash of the rule file's path as given (and the working folder
when that path is relative), the options, and everything the compiler runs on: every .py file of
the deidc package (the compile imports runtime modules too), grammar.lark, every file in
rulesets/, and the Python, pydicom, lark and regex versions. The entry lists every file the
compile read — the rule file, its `use`d rulesets and `include`s, its lookup tables — with a
SHA-256 of each; one that differs makes it a miss. Paths are kept as the compile used them, not
resolved, so a retargeted symlink is seen. A result with errors is never stored (a missing file
is not in the list, so its appearing could not be seen). A file that changed while the compile
ran (modified after it started) is not stored either. Secret files are not read at compile time
(the Plan holds their paths only), so they are not part of it.

No identifiers. A lookup table maps original patient IDs, which the README keeps to the places
that hold identifiers (mappings/, the audit, the quarantine list, the user's own tables). Entries
hold no table: they are stored with every `LookupAction.table` emptied and filled again on load by
`compiler.actions.read_lookup_table`, the compiler's own reader (so Plans using lookups still load
fast, and their tables are always the file's current content). Nothing else in a Plan copies data
from files other than rule files: tags, VRs and PHI kinds come from pydicom's dictionary, secrets
are names and paths, origins are paths. What the rule files themselves say (a `when PatientID in
(...)`) is kept, as in the rule files.

No code from the cache. Unpickling runs code, so entries live in a `PrivateFolder`
(compiler/private_folder.py): a folder that is the user's alone, whose files are read back only
when they are the user's, 0600 and carry the HMAC the folder's own secret gives their name and
bytes — a planted or altered entry is moved aside to NAME.rejected with one warning line, and the
rules compiled afresh. As defence in depth, the pickle may name only the classes a `CompileResult`
is made of (`_Unpickler.find_class`, after the "Restricting Globals" recipe of the pickle docs).
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import lark
import pydicom
import regex

from deidc.compiler import CompileResult, compile_rules
from deidc.compiler import plan as plan_module
from deidc.compiler.actions import read_lookup_table
from deidc.compiler.plan import LookupAction, PlanAction
from deidc.compiler.private_folder import PrivateFolder
from deidc.diagnostics import Diagnostic, Span

PACKAGE = Path(__file__).resolve().parent.parent  # the deidc package: grammar, rulesets, modules
MAGIC = b"deidc-plan 2\n"
SUFFIX = ".plan"


def cached_compile(path: str | Path, options: tuple[str, ...] = ()) -> CompileResult:
    """`compile_rules`, through the cache. Syntax errors raise `DeidError`, as there."""
    folder = PrivateFolder.open(cache_folder(), MAGIC)
    if folder is None:
        return compile_rules(path, options)
    try:
        name = _key(path, options)
        if name is None:
            return compile_rules(path, options)
        result = _load(folder, name)
        if result is None:
            started = time.time_ns()
            result = compile_rules(path, options)
            if not result.errors:
                _store(folder, name, result, started)
        return result
    finally:
        folder.close()


def cache_folder() -> Path | None:
    setting = os.environ.get("DEIDC_CACHE")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deidc"


# ---- the key: what the compile ran on ------------------------------------------------------


def dependency_files() -> list[Path]:
    """Every file of the deidc package a compile can run or read: its modules (all of them — the
    compiler imports runtime code), the grammar and the shipped rulesets and tables."""
    files = [*PACKAGE.glob("*.py"), PACKAGE / "grammar.lark"]
    files += [p for p in (PACKAGE / "rulesets").iterdir() if p.is_file()]
    for package in PACKAGE.iterdir():
        if (package / "__init__.py").is_file():
            files += package.rglob("*.py")
    return sorted(files)


@lru_cache(maxsize=1)
def _environment_digest() -> str:
    """The compiler's own code, data and libraries: a changed one never reads older Plans."""
    digest = hashlib.sha256(MAGIC)
    for version in (sys.version, sys.implementation.cache_tag, pydicom.__version__, lark.__version__,
                    regex.__version__):
        digest.update(str(version).encode() + b"\0")
    for file in dependency_files():
        data = file.read_bytes()
        digest.update(f"{file.relative_to(PACKAGE)}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _key(path: str | Path, options: tuple[str, ...]) -> str | None:
    """The entry's name; None when the package's own files cannot be read (then: not cached)."""
    given = os.fspath(path)
    # A relative path: the Plan's origins and lookup paths are relative to this working folder.
    where = "" if os.path.isabs(given) else os.getcwd()
    try:
        text = json.dumps([_environment_digest(), given, where, sorted(set(options))])
    except OSError:
        return None
    return hashlib.sha256(text.encode()).hexdigest()[:32] + SUFFIX


def _read_files(result: CompileResult) -> list[str]:
    """Every file the compile read, as an absolute path that does not resolve symlinks."""
    files = [*result.plan.sources, *_lookups(result).keys()]
    return list(dict.fromkeys(os.path.join(os.getcwd(), f) for f in files))


def _file_digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


# ---- lookup tables: never stored, read anew -------------------------------------------------


def _lookups(result: CompileResult) -> dict[str, None]:
    found: dict[str, None] = {}
    for rule in result.plan.rules:
        action = rule.action
        while isinstance(action, LookupAction):
            found[action.table_file] = None
            action = action.fallback
    return found


def _with_tables(result: CompileResult, table_for: Callable[[str], dict[str, str]]) -> CompileResult:
    """The result with every lookup action's table replaced by `table_for(table_file)`."""
    converted: dict[int, LookupAction] = {}

    def convert(action: PlanAction) -> PlanAction:
        if not isinstance(action, LookupAction):
            return action
        if id(action) not in converted:
            converted[id(action)] = dataclasses.replace(
                action, table=table_for(action.table_file), fallback=convert(action.fallback))
        return converted[id(action)]

    rules = [dataclasses.replace(r, action=convert(r.action)) if isinstance(r.action, LookupAction) else r
             for r in result.plan.rules]
    return CompileResult(dataclasses.replace(result.plan, rules=rules), result.diagnostics)


def _read_tables(result: CompileResult) -> CompileResult:
    tables = {file: read_lookup_table(Path(file)) for file in _lookups(result)}
    return _with_tables(result, tables.__getitem__) if tables else result


# ---- restricted unpickling --------------------------------------------------------------------


@lru_cache(maxsize=1)
def _allowed_globals() -> dict[tuple[str, str], type]:
    """The classes a CompileResult is made of: the Plan's own, the result and its diagnostics.
    Nothing else: pickle protocol 4+ spells lists, dicts, tuples, sets and frozensets with
    opcodes of its own, and the Plan holds no other objects (a test round-trips every shipped
    and golden rule file through this)."""
    classes = [c for c in vars(plan_module).values()
               if isinstance(c, type) and c.__module__ == plan_module.__name__]
    classes += [CompileResult, Diagnostic, Span]
    return {(c.__module__, c.__qualname__): c for c in classes}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        try:
            return _allowed_globals()[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a compiled Plan") from None


def _unpickle(data: bytes | memoryview, start: int = 0) -> object:
    stream = io.BytesIO(data)  # shares `data`'s buffer: no copy of a megabyte-sized Plan
    stream.seek(start)
    return _Unpickler(stream).load()


# ---- an entry: the files the compile read, with their digests, then the pickled result ----------


def _load(folder: PrivateFolder, name: str) -> CompileResult | None:
    body = folder.read(name)
    if body is None:
        return None
    try:
        size = int.from_bytes(body[:4], "big")
        manifest = json.loads(bytes(body[4:4 + size]))
        if any(_file_digest(file) != digest for file, digest in manifest):
            return None  # a source changed: compile again (the new Plan replaces this one)
        result = _unpickle(body, 4 + size)
        if not isinstance(result, CompileResult):
            raise pickle.UnpicklingError("not a CompileResult")
    except Exception:  # noqa: BLE001 — authentic yet unreadable: someone holds the secret
        folder.reject(name, "it holds something other than a compiled Plan")
        return None
    try:
        return _read_tables(result)
    except (OSError, ValueError):
        return None  # a table gone or broken: the compile says so, with a position


def _store(folder: PrivateFolder, name: str, result: CompileResult, started: int) -> None:
    try:
        files = _read_files(result)
        manifest = [(file, _file_digest(file)) for file in files]
        if any(d is None for _, d in manifest) or any(os.stat(f).st_mtime_ns >= started for f in files):
            return  # a source gone or edited while it compiled: no entry that could be stale
        listed = json.dumps(manifest).encode()
        pickled = pickle.dumps(_with_tables(result, lambda file: {}), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 — something unpicklable: just not cached
        return
    folder.write(name, len(listed).to_bytes(4, "big") + listed + pickled)
