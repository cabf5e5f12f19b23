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

No code from the cache. Unpickling runs code, so an entry is trusted only when all of these hold:
- the folder is owned by the current user and not group- or world-writable (else it is neither
  read nor written, and one line on stderr says why and how to fix it); it is created 0700;
- the entry is a regular file, opened without following symlinks, owned by the user and not
  group- or world-writable; entries are written 0600 whatever the umask, by an atomic rename;
- its HMAC-SHA256, keyed by a random 32-byte secret kept in the folder (`secret`, 0600, created
  exclusively and never through a symlink, owner and mode checked on every read), matches
  (`hmac.compare_digest`); the MAC covers the entry's name too, so entries cannot be swapped;
- and, as defence in depth, the pickle names only the classes a `CompileResult` is made of
  (`_Unpickler.find_class`, after the "Restricting Globals" recipe of the pickle docs).
An entry that fails is moved aside to NAME.rejected (evidence kept, one line on stderr) and the
rules are compiled afresh. All work happens through one descriptor of the checked folder, so the
folder cannot be swapped between check and use. Creating the secret removes the entries of older
deidc versions (unauthenticated, and they held lookup tables). POSIX only: where the platform
lacks O_NOFOLLOW or descriptor-relative calls, nothing is cached.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import io
import json
import os
import pickle
import re
import secrets
import stat
import sys
import time
from functools import lru_cache
from pathlib import Path

import lark
import pydicom
import regex

from deidc.compiler import CompileResult, compile_rules
from deidc.compiler import plan as plan_module
from deidc.compiler.actions import read_lookup_table
from deidc.compiler.plan import LookupAction
from deidc.dsl.diagnostics import Diagnostic, Span

PACKAGE = Path(__file__).resolve().parent.parent  # the deidc package: grammar, rulesets, modules
MAGIC = b"deidc-plan 2\n"
SUFFIX = ".plan"
SECRET_NAME = "secret"
SECRET_BYTES = 32
_MAC_BYTES = hashlib.sha256().digest_size
_SUPPORTED = (hasattr(os, "O_NOFOLLOW") and hasattr(os, "geteuid") and hasattr(os, "O_DIRECTORY")
              and {os.open, os.link, os.rename, os.unlink} <= os.supports_dir_fd)  # rename: replace too
_FLAGS = os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_warned: set[str] = set()


def cached_compile(path: str | Path, options: tuple[str, ...] = ()) -> CompileResult:
    """`compile_rules`, through the cache. Syntax errors raise `DeidError`, as there."""
    folder = _Folder.open(cache_folder())
    if folder is None:
        return compile_rules(path, options)
    try:
        name = _key(path, options)
        if name is None:
            return compile_rules(path, options)
        result = folder.load(name)
        if result is None:
            started = time.time_ns()
            result = compile_rules(path, options)
            if not result.errors:
                folder.store(name, result, started)
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


def _with_tables(result: CompileResult, table_for) -> CompileResult:
    """The result with every lookup action's table replaced by `table_for(table_file)`."""
    converted: dict[int, LookupAction] = {}

    def convert(action):
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
    def find_class(self, module: str, name: str):
        try:
            return _allowed_globals()[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a compiled Plan") from None


def _unpickle(data: bytes, start: int = 0):
    stream = io.BytesIO(data)  # shares `data`'s buffer: no copy of a megabyte-sized Plan
    stream.seek(start)
    return _Unpickler(stream).load()


# ---- the folder: checked once, then used through its descriptor -------------------------------


def _warn(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print(f"deidc: warning: {message}", file=sys.stderr)


def _unsafe(st: os.stat_result) -> str | None:
    """Why a folder or file must not be trusted, or None."""
    uid = os.geteuid()
    if st.st_uid != uid:
        return f"it is owned by uid {st.st_uid}, not by you (uid {uid})"
    if st.st_mode & 0o022:
        return "group or others can write to it"
    return None


class _Folder:
    def __init__(self, location: Path, fd: int, secret: bytes):
        self.location, self.fd, self.secret = location, fd, secret

    @classmethod
    def open(cls, location: Path | None) -> _Folder | None:
        if location is None or not _SUPPORTED:
            return None
        try:
            fd = _open_directory(location)
        except OSError:
            return None  # a read-only home, a file in the way: just not cached
        try:
            st = os.fstat(fd)
            problem = _unsafe(st)
            if problem:
                fix = (f"chmod 700 {location}" if st.st_uid == os.geteuid()
                       else "set DEIDC_CACHE to a folder of your own")
                _warn(f"not using the Plan cache {location}: {problem} (fix: {fix}, or DEIDC_CACHE=off)")
            else:
                secret = _secret(fd, location)
                if secret is not None:
                    return cls(location, fd, secret)
        except OSError:
            pass
        os.close(fd)
        return None

    def close(self) -> None:
        os.close(self.fd)

    def _mac(self, name: str, body: bytes | memoryview) -> bytes:
        mac = hmac.new(self.secret, MAGIC + name.encode() + b"\0", hashlib.sha256)
        mac.update(body)
        return mac.digest()

    def load(self, name: str) -> CompileResult | None:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError:  # ELOOP: a symlink in place of an entry
            return self._reject(name, "it is not a regular file")
        try:
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                problem = "it is not a regular file" if not stat.S_ISREG(st.st_mode) else _unsafe(st)
                data = None if problem else fh.read()
        except OSError:
            return None
        if problem:
            return self._reject(name, problem)
        head = len(MAGIC) + _MAC_BYTES
        if not data.startswith(MAGIC) or not hmac.compare_digest(
                data[len(MAGIC):head], self._mac(name, memoryview(data)[head:])):
            return self._reject(name, "it failed authentication")
        try:
            size = int.from_bytes(data[head:head + 4], "big")
            manifest = json.loads(data[head + 4:head + 4 + size])
            if any(_file_digest(file) != digest for file, digest in manifest):
                return None  # a source changed: compile again (the new Plan replaces this one)
            result = _unpickle(data, head + 4 + size)
            if not isinstance(result, CompileResult):
                raise pickle.UnpicklingError("not a CompileResult")
        except Exception:  # noqa: BLE001 — authentic yet unreadable: someone holds the secret
            return self._reject(name, "it holds something other than a compiled Plan")
        try:
            return _read_tables(result)
        except (OSError, ValueError):
            return None  # a table gone or broken: the compile says so, with a position

    def _reject(self, name: str, why: str) -> None:
        try:
            os.replace(name, name + ".rejected", src_dir_fd=self.fd, dst_dir_fd=self.fd)
            kept = f"moved to {name}.rejected"
        except OSError:
            kept = "left in place"
        _warn(f"ignored Plan cache entry {self.location / name}: {why}; {kept} and compiled afresh "
              f"(DEIDC_CACHE=off turns the cache off)")
        return None

    def store(self, name: str, result: CompileResult, started: int) -> None:
        try:
            files = _read_files(result)
            manifest = [(file, _file_digest(file)) for file in files]
            if any(d is None for _, d in manifest) or any(os.stat(f).st_mtime_ns >= started for f in files):
                return  # a source gone or edited while it compiled: no entry that could be stale
            listed = json.dumps(manifest).encode()
            pickled = pickle.dumps(_with_tables(result, lambda file: {}), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 — something unpicklable: just not cached
            return
        body = len(listed).to_bytes(4, "big") + listed + pickled
        _write_new(self.fd, name, MAGIC + self._mac(name, body) + body)


def _open_directory(location: Path) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    try:
        return os.open(location, flags)
    except FileNotFoundError:
        pass
    location.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(location, 0o700)
    except FileExistsError:
        return os.open(location, flags)
    fd = os.open(location, flags)
    if os.fstat(fd).st_uid == os.geteuid():
        os.fchmod(fd, 0o700)  # whatever the umask
    return fd


def _write_new(folder: int, name: str, data: bytes) -> bool:
    """Write `name` atomically and 0600, through a temporary created exclusively, never through a
    symlink. An entry is replaced; the secret is only ever created (a hard link fails when it
    exists), so two processes never end up with different secrets. False when it could not."""
    temporary = f".new-{secrets.token_hex(8)}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _FLAGS, 0o600, dir_fd=folder)
    except OSError:
        return False
    written = False
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)  # whatever the umask
            fh.write(data)
        if name != SECRET_NAME:
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
            return True
        os.link(temporary, name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
        written = True
    except OSError:
        pass
    try:
        os.unlink(temporary, dir_fd=folder)  # the secret's second name, or a failed write
    except OSError:
        pass
    return written


def _secret(folder: int, location: Path) -> bytes | None:
    """The folder's HMAC key, created on first use; None (after a warning) if it is not safe."""
    for attempt in range(2):
        try:
            fd = os.open(SECRET_NAME, os.O_RDONLY | os.O_NONBLOCK | _FLAGS, dir_fd=folder)
        except FileNotFoundError:
            if attempt:
                return None  # neither made nor found (a full disk): just not cached
            key = secrets.token_bytes(SECRET_BYTES)
            if _write_new(folder, SECRET_NAME, key):
                _remove_older_entries(folder)
                return key
            continue  # another process made it first: read theirs
        except OSError:
            break  # ELOOP: a symlink in its place
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o077:
                key = fh.read(SECRET_BYTES + 1)
                if len(key) == SECRET_BYTES:
                    return key
        break
    _warn(f"not using the Plan cache {location}: its key file is not a 0600 file of yours "
          f"(fix: rm {location / SECRET_NAME}, or DEIDC_CACHE=off)")
    return None


_OLDER_ENTRY = re.compile(r"[0-9a-f]{32}\.plan|tmp[a-z0-9_]{8}\.partial")  # and nothing else of the folder's


def _remove_older_entries(folder: int) -> None:
    """Entries from before the secret cannot authenticate; those of deidc before version 2 of the
    format also held lookup tables (patient IDs), as did their half-written `.partial` files."""
    for name in os.listdir(folder):
        if _OLDER_ENTRY.fullmatch(name):
            try:
                os.unlink(name, dir_fd=folder)
            except OSError:
                pass
