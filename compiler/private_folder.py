"""A private folder of authenticated files: where the Plan cache keeps its entries.

In: a folder path. Out: a `PrivateFolder` that reads back, by name, only bytes it wrote itself,
or None (with one line on stderr saying why and how to fix it) when the folder cannot be trusted.

Trusted means: the folder is owned by the current user and not group- or world-writable (created
0700 whatever the umask) and is used only through one descriptor, so it cannot be swapped between
the check and the use; a file is read without following symlinks and only when it is a regular
file of the user's that group and others cannot write; files are written 0600 by an atomic rename
of a temporary created exclusively; and every file carries an HMAC-SHA256 of its name and bytes,
keyed by a random 32-byte secret kept in the folder (`secret`, 0600, created exclusively and never
through a symlink, owner and mode checked on every read), compared with `hmac.compare_digest`. A
file that fails is moved aside to NAME.rejected (evidence kept). POSIX only: where the platform
lacks O_NOFOLLOW or descriptor-relative calls, `PrivateFolder.open` gives None.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
import sys
from pathlib import Path

SECRET_NAME = "secret"
SECRET_BYTES = 32
_MAC_BYTES = hashlib.sha256().digest_size
_SUPPORTED = (hasattr(os, "O_NOFOLLOW") and hasattr(os, "geteuid") and hasattr(os, "O_DIRECTORY")
              and {os.open, os.link, os.rename, os.unlink} <= os.supports_dir_fd)  # rename: replace too
_FLAGS = os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_warned: set[str] = set()


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


class PrivateFolder:
    """An open, checked folder; `read` and `write` take a file's name and its bytes."""

    def __init__(self, location: Path, fd: int, secret: bytes, magic: bytes):
        self.location, self.fd, self.secret, self.magic = location, fd, secret, magic

    @classmethod
    def open(cls, location: Path | None, magic: bytes) -> PrivateFolder | None:
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
                    return cls(location, fd, secret, magic)
        except OSError:
            pass
        os.close(fd)
        return None

    def close(self) -> None:
        os.close(self.fd)

    def _mac(self, name: str, body: bytes | memoryview) -> bytes:
        mac = hmac.new(self.secret, self.magic + name.encode() + b"\0", hashlib.sha256)
        mac.update(body)
        return mac.digest()

    def read(self, name: str) -> memoryview | None:
        """The bytes written under `name` by `write`, or None: missing, or rejected (moved aside,
        one warning line) because it is not a regular file of the user's or fails authentication."""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError:  # ELOOP: a symlink in place of a file
            self.reject(name, "it is not a regular file")
            return None
        try:
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                problem = "it is not a regular file" if not stat.S_ISREG(st.st_mode) else _unsafe(st)
                data = None if problem else fh.read()
        except OSError:
            return None
        if problem or data is None:
            self.reject(name, problem or "it is not a regular file")
            return None
        head = len(self.magic) + _MAC_BYTES
        if not data.startswith(self.magic) or not hmac.compare_digest(
                data[len(self.magic):head], self._mac(name, memoryview(data)[head:])):
            self.reject(name, "it failed authentication")
            return None
        return memoryview(data)[head:]

    def reject(self, name: str, why: str) -> None:
        """Move `name` aside to NAME.rejected (the evidence kept) and say why, once."""
        try:
            os.replace(name, name + ".rejected", src_dir_fd=self.fd, dst_dir_fd=self.fd)
            kept = f"moved to {name}.rejected"
        except OSError:
            kept = "left in place"
        _warn(f"ignored Plan cache entry {self.location / name}: {why}; {kept} and compiled afresh "
              f"(DEIDC_CACHE=off turns the cache off)")
        return None

    def write(self, name: str, body: bytes) -> bool:
        """Write `body` under `name` (atomically, 0600, authenticated); False when it could not."""
        return _write_new(self.fd, name, self.magic + self._mac(name, body) + body)


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


# What deidc's Plan cache wrote before it authenticated its entries (and nothing else of the folder's)
_OLDER_ENTRY = re.compile(r"[0-9a-f]{32}\.plan|tmp[a-z0-9_]{8}\.partial")


def _remove_older_entries(folder: int) -> None:
    """Entries from before the secret cannot authenticate; those of deidc before version 2 of the
    cache format also held lookup tables (patient IDs), as did their half-written `.partial` files."""
    for name in os.listdir(folder):
        if _OLDER_ENTRY.fullmatch(name):
            try:
                os.unlink(name, dir_fd=folder)
            except OSError:
                pass
