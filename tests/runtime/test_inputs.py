"""Unit tests for deidc.runtime.batch.inputs.discover_inputs: every entry of the input folder is either a
file to process or a refusal row with a reason — symbolic links (dangling, looping, leaving the
folder), FIFOs, devices, unreadable entries, non-UTF-8 names — and nothing is opened or skipped."""
from __future__ import annotations

import inspect
import os
import socket
import sys
from pathlib import Path

import pytest

from deidc.runtime.batch.inputs import (
    DANGLING,
    LOOP,
    NOT_FOLLOWED,
    NOT_REGULAR,
    OUTSIDE,
    SYMLINK,
    UNREADABLE,
    InputListing,
    discover_inputs,
)


def rel(root: Path, paths) -> list[str]:
    return [str(p.relative_to(root)) for p in paths]


def rows(root: Path, listing: InputListing) -> dict[str, tuple[str, str]]:
    return {str(r.path.relative_to(root)): (r.kind, r.reason) for r in listing.refused}


@pytest.fixture
def tree(tmp_path) -> Path:
    """in/: two files in folders, a hidden file and a hidden folder; outside.dcm next to in/."""
    root = tmp_path / "in"
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    (root / "b" / "2.dcm").write_bytes(b"two")
    (root / "a" / "1.dcm").write_bytes(b"one")
    (root / ".hidden.dcm").write_bytes(b"hidden")
    (root / ".git").mkdir()
    (root / ".git" / "x.dcm").write_bytes(b"x")
    (tmp_path / "outside.dcm").write_bytes(b"outside")
    return root


def test_regular_files_are_listed_in_path_order_hidden_ones_included(tree):
    listing = discover_inputs(tree)
    assert rel(tree, listing.files) == [".git/x.dcm", ".hidden.dcm", "a/1.dcm", "b/2.dcm"]
    assert listing.refused == []


def test_a_file_given_as_the_input_is_the_only_input(tree):
    listing = discover_inputs(tree / "a" / "1.dcm")
    assert listing.files == [tree / "a" / "1.dcm"] and listing.refused == []


def test_a_symlink_given_as_the_input_is_followed(tree, tmp_path):
    (tmp_path / "given").symlink_to(tree)
    listing = discover_inputs(tmp_path / "given")
    assert rel(tmp_path / "given", listing.files) == [".git/x.dcm", ".hidden.dcm", "a/1.dcm", "b/2.dcm"]
    (tmp_path / "one").symlink_to(tmp_path / "outside.dcm")
    assert discover_inputs(tmp_path / "one").files == [tmp_path / "one"]


def test_a_missing_input_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        discover_inputs(tmp_path / "nothing")


def make_links(root: Path, outside: Path) -> None:
    (root / "dangling").symlink_to(root / "no-such-file")
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    (root / "out.dcm").symlink_to(outside)
    (root / "null").symlink_to("/dev/null")
    (root / "a" / "parent").symlink_to(root)  # a cycle if followed blindly
    (root / "same.dcm").symlink_to(root / "b" / "2.dcm")
    (root / "etc").symlink_to("/etc")


def test_symlinks_are_rows_and_not_followed_by_default(tree, tmp_path):
    make_links(tree, tmp_path / "outside.dcm")
    listing = discover_inputs(tree)
    assert rel(tree, listing.files) == [".git/x.dcm", ".hidden.dcm", "a/1.dcm", "b/2.dcm"]
    assert rows(tree, listing) == {name: (SYMLINK, NOT_FOLLOWED) for name in (
        "dangling", "loop1", "loop2", "out.dcm", "null", "a/parent", "same.dcm", "etc")}
    assert "--follow-symlinks" in NOT_FOLLOWED


def test_followed_symlinks_stay_inside_the_folder_and_never_cycle(tree, tmp_path):
    make_links(tree, tmp_path / "outside.dcm")
    listing = discover_inputs(tree, follow_symlinks=True)
    assert rel(tree, listing.files) == [".git/x.dcm", ".hidden.dcm", "a/1.dcm", "b/2.dcm"]
    found = rows(tree, listing)
    assert found == {
        "dangling": (SYMLINK, DANGLING),
        "loop1": (SYMLINK, LOOP),
        "loop2": (SYMLINK, LOOP),
        "out.dcm": (SYMLINK, OUTSIDE),
        "null": (SYMLINK, OUTSIDE),
        "etc": (SYMLINK, OUTSIDE),
        "a/parent": (SYMLINK, "leads to a folder already listed (the input folder): not followed again"),
        "same.dcm": (SYMLINK, "leads to a file already listed (b/2.dcm): listed once"),
    }
    assert OUTSIDE == "points outside the input folder: not followed"


def test_a_followed_link_to_a_folder_inside_lists_its_files_once(tmp_path):
    """Every folder inside the input folder is listed under its own path; a link to one is a row,
    so no file is processed twice."""
    root = tmp_path / "in"
    (root / "store" / "deep").mkdir(parents=True)
    (root / "store" / "deep" / "1.dcm").write_bytes(b"one")
    (root / "view").symlink_to(root / "store" / "deep")
    listing = discover_inputs(root, follow_symlinks=True)
    assert rel(root, listing.files) == ["store/deep/1.dcm"]
    assert rows(root, listing) == {
        "view": (SYMLINK, "leads to a folder already listed (store/deep): not followed again")}


def test_a_folder_of_only_dangling_links_lists_no_file_and_a_row_each(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    for name in ("x.dcm", "y.dcm"):
        (root / name).symlink_to(tmp_path / "gone" / name)
    for follow in (False, True):
        listing = discover_inputs(root, follow)
        assert listing.files == []
        assert [r.path.name for r in listing.refused] == ["x.dcm", "y.dcm"]
        assert {r.reason for r in listing.refused} == {DANGLING if follow else NOT_FOLLOWED}


def test_fifos_sockets_and_device_links_are_never_opened(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    os.mkfifo(root / "pipe")  # opening it would block the listing forever
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))
        (root / "inner-pipe").symlink_to(root / "pipe")
        listing = discover_inputs(root, follow_symlinks=True)
    assert listing.files == []
    assert rows(root, listing) == {
        "inner-pipe": (NOT_REGULAR, "not a regular file (FIFO, through a symbolic link)"),
        "pipe": (NOT_REGULAR, "not a regular file (FIFO)"),
        "sock": (NOT_REGULAR, "not a regular file (socket)"),
    }
    assert discover_inputs(root / "pipe").refused == [type(listing.refused[0])(root / "pipe", NOT_REGULAR,
                                                                                 "not a regular file (FIFO)")]


def test_a_device_given_as_the_input_is_refused():
    listing = discover_inputs(Path("/dev/null"))
    assert listing.files == []
    assert [(r.kind, r.reason) for r in listing.refused] == [(NOT_REGULAR, "not a regular file (character device)")]


def test_names_that_are_not_utf8_are_listed_in_bytes_order(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    for name in (b"\xff.dcm", b"a.dcm", b"\xc3\xa9.dcm", b"Z.dcm"):
        (root / os.fsdecode(name)).write_bytes(b"x")
    listing = discover_inputs(root)
    assert [os.fsencode(p.name) for p in listing.files] == [b"Z.dcm", b"a.dcm", b"\xc3\xa9.dcm", b"\xff.dcm"]
    assert all(p.is_file() for p in listing.files)


@pytest.mark.skipif(os.geteuid() == 0, reason="root is granted access to a chmod 000 file")
def test_unreadable_files_and_folders_are_rows(tmp_path):
    root = tmp_path / "in"
    (root / "closed").mkdir(parents=True)
    (root / "closed" / "1.dcm").write_bytes(b"x")
    (root / "secret.dcm").write_bytes(b"x")
    (root / "ok.dcm").write_bytes(b"x")
    (root / "secret.dcm").chmod(0)
    (root / "closed").chmod(0)
    try:
        listing = discover_inputs(root)
    finally:
        (root / "closed").chmod(0o755)
    assert rel(root, listing.files) == ["ok.dcm"]
    assert rows(root, listing) == {
        "closed": (UNREADABLE, "unreadable folder: permission denied; the files in it are not listed"),
        "secret.dcm": (UNREADABLE, "unreadable: permission denied"),
    }


def test_a_folder_that_vanishes_while_listed_is_a_row(tmp_path, monkeypatch):
    root = tmp_path / "in"
    (root / "gone").mkdir(parents=True)
    (root / "kept.dcm").write_bytes(b"x")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "gone":
            os.rmdir(path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    listing = discover_inputs(root)
    assert rel(root, listing.files) == ["kept.dcm"]
    assert rows(root, listing) == {"gone": (UNREADABLE, "disappeared while the input folder was listed")}


def test_deep_folders_are_listed_without_recursion(tmp_path):
    root = tmp_path / "in"
    deep = root
    for _ in range(200):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "1.dcm").write_bytes(b"x")
    limit, depth = sys.getrecursionlimit(), len(inspect.stack(0))
    sys.setrecursionlimit(depth + 50)  # a recursive walk of 200 folders would fail here
    try:
        listing = discover_inputs(root)
    finally:
        sys.setrecursionlimit(limit)
    assert listing.files == [deep / "1.dcm"]
