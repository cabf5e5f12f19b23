"""The input folder → every file to de-identify, and every entry that will not be read, with why.

In: the input path the user gave (a folder, or one file; a symbolic link given here is the
user's own choice and is followed) and whether links inside the folder are followed. Out: an
`InputListing`: the regular files to process, in a deterministic order (bytes of the path
relative to the input folder: names need not be UTF-8), and a `RefusedInput` row for every
other entry — symbolic links (not followed by default), dangling links, link loops, links that
leave the input folder, FIFOs, sockets, devices, unreadable files and folders, entries that
vanish while the folder is listed. Nothing is skipped silently: hidden files are inputs too.

The walk is iterative (a stack, `os.scandir`, `lstat`), never opens an entry (opening a FIFO
blocks) and lists each real folder and file once: with `follow_symlinks`, a link that leads to
a folder or file already listed is a row, so a link to a parent folder cannot make a cycle.
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

# `kind`: the summary class of a refused entry; `reason`: what the quarantine row says
SYMLINK = "symbolic link"
NOT_REGULAR = "not a regular file"
UNREADABLE = "unreadable"

NOT_FOLLOWED = "symbolic link (not followed; --follow-symlinks follows links inside the input folder)"
OUTSIDE = "points outside the input folder: not followed"
DANGLING = "dangling symbolic link: its target does not exist"
LOOP = "symbolic link loop: it never resolves to a file or folder"
VANISHED = "disappeared while the input folder was listed"

_SPECIAL_KINDS = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                  (stat.S_ISBLK, "block device"))


@dataclass(frozen=True)
class RefusedInput:
    path: Path  # as found under the input path (never resolved: the row names what the user sees)
    kind: str
    reason: str


@dataclass
class InputListing:
    files: list[Path] = field(default_factory=list)
    refused: list[RefusedInput] = field(default_factory=list)


def discover_inputs(root: Path, follow_symlinks: bool = False) -> InputListing:
    """Every regular file under `root` (or `root` itself when it is a file) and a refusal row for
    every other entry. Raises FileNotFoundError when `root` does not exist (a usage error)."""
    try:
        root_stat = os.stat(root)  # follows a link given on the command line
    except FileNotFoundError:
        raise FileNotFoundError(f"input {root} does not exist") from None
    except OSError as err:
        return InputListing(refused=[_unreadable(root, err)])
    walk = _Walk(root, follow_symlinks)
    if stat.S_ISDIR(root_stat.st_mode):
        walk.folder(root, root_stat)
        walk.run()
    else:
        walk.classify(root, root_stat)
    walk.listing.files.sort(key=walk.order)
    walk.listing.refused.sort(key=lambda r: walk.order(r.path))
    return walk.listing


class _Walk:
    def __init__(self, root: Path, follow_symlinks: bool) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.follow = follow_symlinks
        self.listing = InputListing()
        self.pending: list[Path] = []  # folders still to list (a stack: no recursion)
        self.links: list[Path] = []  # links met while listing, followed once every real entry is known
        self.seen: dict[tuple[int, int], Path] = {}  # (device, inode) → the path it was listed under

    def order(self, path: Path) -> bytes:
        return os.fsencode(path.relative_to(self.root)) if path != self.root else b""

    def run(self) -> None:
        # Real folders first, then links (in path order), so an entry reached both ways is
        # listed under its own path and the link is the row.
        while self.pending or self.links:
            while self.pending:
                self._list(self.pending.pop())
            links, self.links = sorted(self.links, key=self.order), []
            for link in links:  # a followed folder adds to `pending`, its links to the next round
                self._link(link)

    def folder(self, path: Path, info: os.stat_result) -> None:
        self.seen[(info.st_dev, info.st_ino)] = path
        self.pending.append(path)

    def _list(self, folder: Path) -> None:
        try:
            with os.scandir(folder) as entries:
                found = list(entries)
        except FileNotFoundError:
            self._refuse(folder, UNREADABLE, VANISHED)
            return
        except OSError as err:
            self._refuse(folder, UNREADABLE, f"unreadable folder: {_why(err)}; the files in it are not listed")
            return
        for entry in found:
            path = folder / entry.name
            try:
                if entry.is_symlink():
                    if self.follow:
                        self.links.append(path)
                    else:
                        self._refuse(path, SYMLINK, NOT_FOLLOWED)
                    continue
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                self._refuse(path, UNREADABLE, VANISHED)
                continue
            except OSError as err:
                self._refuse(path, UNREADABLE, f"unreadable: {_why(err)}")
                continue
            self.classify(path, info)

    def classify(self, path: Path, info: os.stat_result, via_link: bool = False) -> None:
        """A regular file is an input, a folder is listed (once), anything else is a row."""
        mode = info.st_mode
        if stat.S_ISDIR(mode):
            earlier = self.seen.get((info.st_dev, info.st_ino))
            if earlier is not None:  # only a link leads back to a folder (or a bind mount)
                self._refuse(path, SYMLINK, f"leads to a folder already listed ({self._shown(earlier)}): not followed again")
            elif not os.access(path, os.R_OK | os.X_OK):
                self._refuse(path, UNREADABLE, "unreadable folder: permission denied; the files in it are not listed")
            else:
                self.folder(path, info)
        elif stat.S_ISREG(mode):
            earlier = self.seen.get((info.st_dev, info.st_ino))
            if via_link and earlier is not None:
                self._refuse(path, SYMLINK, f"leads to a file already listed ({self._shown(earlier)}): listed once")
            elif not os.access(path, os.R_OK):
                self._refuse(path, UNREADABLE, "unreadable: permission denied")
            else:
                self.seen.setdefault((info.st_dev, info.st_ino), path)
                self.listing.files.append(path)
        else:
            what = next((name for test, name in _SPECIAL_KINDS if test(mode)), "unknown file type")
            self._refuse(path, NOT_REGULAR, f"not a regular file ({what}{', through a symbolic link' if via_link else ''})")

    def _link(self, path: Path) -> None:
        """With --follow-symlinks: a link whose target is inside the input folder is followed."""
        try:
            info = os.stat(path)
        except OSError as err:
            if err.errno == errno.ELOOP:
                self._refuse(path, SYMLINK, LOOP)
            elif err.errno in (errno.ENOENT, errno.ENOTDIR):
                self._refuse(path, SYMLINK, DANGLING)
            else:
                self._refuse(path, UNREADABLE, f"unreadable: {_why(err)}")
            return
        target = os.path.realpath(path)
        if os.path.commonpath([self.real_root, target]) != self.real_root:
            self._refuse(path, SYMLINK, OUTSIDE)
            return
        self.classify(path, info, via_link=True)

    def _shown(self, path: Path) -> str:
        return "the input folder" if path == self.root else str(path.relative_to(self.root))

    def _refuse(self, path: Path, kind: str, reason: str) -> None:
        self.listing.refused.append(RefusedInput(path, kind, reason))


def _unreadable(path: Path, err: OSError) -> RefusedInput:
    if err.errno == errno.ELOOP:
        return RefusedInput(path, SYMLINK, LOOP)
    return RefusedInput(path, UNREADABLE, f"unreadable: {_why(err)}")


def _why(err: OSError) -> str:
    return (err.strerror or type(err).__name__).lower()
