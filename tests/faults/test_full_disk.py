"""A full disk and an unwritable output stop the run (exit 4), they do not quarantine inputs.

The output goes to a small tmpfs mounted in a private mount namespace (`unshare --mount` as root,
`unshare --user --map-root-user --mount` otherwise), so nothing is mounted on the host and the
mount disappears with the namespace. One shell script inside the namespace runs `deidc apply`
on a tmpfs smaller than the output, copies what the stopped run left, remounts the tmpfs bigger
(making room) and runs `--resume`; the test then compares the result with an uninterrupted run
on an ordinary disk. A second namespace mounts the tmpfs read-only before the run.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import faultkit as fc
import pytest

FILES, SEED = 60, 4
BASIC = fc.RULESETS / "ps3.15-basic.deid"
SCRIPT_TIMEOUT = 240
FULL = re.compile(r"(disk|device|output|file ?system)[^\n]{0,60}full|no space left", re.IGNORECASE)
UNWRITABLE = re.compile(r"read-only|not writable|unwritable|cannot write|permission denied", re.IGNORECASE)

FULL_DISK_SCRIPT = r"""
set -u
mount -t tmpfs -o "size=$SIZE,mode=0755" deidc-faults "$MNT" || exit 97
"$DEIDC" apply "$RULES" "$SOURCE" -o "$MNT/out" --insecure-demo-key --no-progress --workers 2 \
    >"$WORK/full.stdout" 2>"$WORK/full.stderr"
echo $? >"$WORK/full.rc"
cp -a "$MNT/out" "$WORK/after-full" 2>/dev/null
mount -o "remount,size=256m" "$MNT" || exit 98
"$DEIDC" apply "$RULES" "$SOURCE" -o "$MNT/out" --insecure-demo-key --no-progress --workers 2 --resume \
    >"$WORK/resume.stdout" 2>"$WORK/resume.stderr"
echo $? >"$WORK/resume.rc"
cp -a "$MNT/out" "$WORK/result"
"""

READ_ONLY_SCRIPT = r"""
set -u
mount -t tmpfs -o "size=64m,mode=0755" deidc-faults "$MNT" || exit 97
mkdir "$MNT/out"
mount -o "remount,ro" "$MNT" || exit 98
"$DEIDC" apply "$RULES" "$SOURCE" -o "$MNT/out" --insecure-demo-key --no-progress --workers 2 \
    >"$WORK/ro.stdout" 2>"$WORK/ro.stderr"
echo $? >"$WORK/ro.rc"
"""


def namespace_command() -> list[str] | None:
    """How to enter a private mount namespace here, or None."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    commands = [[unshare, "--mount", "--propagation", "private"]] if os.geteuid() == 0 else []
    commands.append([unshare, "--user", "--map-root-user", "--mount", "--propagation", "private"])
    for command in commands:
        if subprocess.run([*command, "true"], capture_output=True).returncode == 0:
            return command
    return None


def run_in_namespace(script: str, work: Path, source: Path, size: str = "64m") -> None:
    command = namespace_command()
    if command is None:
        pytest.skip("no private mount namespace: needs root or unprivileged user namespaces (unshare --user)")
    mount_point = work / "mnt"
    mount_point.mkdir(parents=True)
    env = fc.cli_env()
    env.update(MNT=str(mount_point), WORK=str(work), SIZE=size, DEIDC=fc.deidc_command(), RULES=str(BASIC),
               SOURCE=str(source))
    done = subprocess.run([*command, "sh", "-c", script], env=env, cwd=fc.REPO, capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT)
    if done.returncode == 97:
        pytest.skip(f"cannot mount a tmpfs in the namespace: {done.stderr.strip()}")
    assert done.returncode == 0, f"the namespace script failed ({done.returncode}): {done.stderr}"


def used_bytes(tree: dict[str, str], root: Path) -> int:
    """What the tree takes on a tmpfs: whole 4 KiB pages per file."""
    return sum(-(-(root / relative).stat().st_size // 4096) * 4096 for relative in tree)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, deidc_entry) -> tuple[Path, fc.ApplyRun, dict[str, str], int]:
    source = tmp_path_factory.mktemp("disk-corpus") / "in"
    fc.valid_corpus(source, FILES, SEED)
    out = tmp_path_factory.mktemp("disk-reference") / "out"
    run = fc.run_apply(BASIC, source, out, timeout=SCRIPT_TIMEOUT)
    digests = fc.tree_digests(out)
    return source, run, digests, used_bytes(digests, out)


def test_a_full_disk_stops_the_run_and_resume_finishes_it(reference, tmp_path):
    source, reference_run, digests, used = reference
    size = max(64 << 10, used * 2 // 5 // 4096 * 4096)  # room for about 40 % of the output
    run_in_namespace(FULL_DISK_SCRIPT, tmp_path, source, size=f"{size >> 10}k")
    code = int((tmp_path / "full.rc").read_text())
    stderr = (tmp_path / "full.stderr").read_text(errors="replace")
    assert "Traceback" not in stderr, stderr[-2000:]
    assert code == 4, f"a full disk: exit {code}, expected 4 (stopped, resumable); stderr: {stderr[-1500:]}"
    assert FULL.search(stderr), f"the error does not say the disk is full: {stderr[-1500:]}"
    stopped = tmp_path / "after-full"
    rows = fc.read_quarantine(stopped) or []
    broken = {str(source / "broken" / name) for name in os.listdir(source / "broken")}
    wrongly = [f"{name}: {reason}" for name, reason in rows if name not in broken]
    assert not wrongly, "a full disk turned valid inputs into quarantine rows:\n  " + "\n  ".join(wrongly[:20])
    for relative, digest in fc.tree_digests(stopped).items():
        if relative.startswith(".deidc-run/") or relative in fc.SIDE_FILES:
            continue
        assert digests.get(relative) == digest, f"{relative}: left in place by the stopped run, but not whole"

    resume_code = int((tmp_path / "resume.rc").read_text())
    resume_stderr = (tmp_path / "resume.stderr").read_text(errors="replace")
    assert "Traceback" not in resume_stderr, resume_stderr[-2000:]
    assert resume_code == reference_run.returncode, f"--resume: exit {resume_code}: {resume_stderr[-1500:]}"
    difference = fc.tree_difference(digests, fc.tree_digests(tmp_path / "result"))
    assert not difference, f"after --resume the output differs from the uninterrupted run: {difference}"


def test_an_unwritable_output_stops_the_run(reference, tmp_path):
    source = reference[0]
    run_in_namespace(READ_ONLY_SCRIPT, tmp_path, source)
    code = int((tmp_path / "ro.rc").read_text())
    stderr = (tmp_path / "ro.stderr").read_text(errors="replace")
    assert "Traceback" not in stderr, stderr[-2000:]
    assert code == 4, f"a read-only output: exit {code}, expected 4; stderr: {stderr[-1500:]}"
    assert UNWRITABLE.search(stderr), f"the error does not say the output cannot be written: {stderr[-1500:]}"
