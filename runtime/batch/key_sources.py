"""Secrets named in the rules → key bytes. The rules name where a secret lives, never its value.

In: the Plan's secret sources (environment variable or key file). Out: `{name: bytes}` or a
`DeidError` that points at the rule defining a missing secret, or a key file that others can
read or replace (group or world bits set, or another owner). `--insecure-demo-key` replaces
every secret with a fixed, public demo key: fine for trying deidc on sample data, useless for
protecting anyone, and said so on the terminal.
"""
from __future__ import annotations

import os
from pathlib import Path

from deidc.compiler.plan import Plan
from deidc.diagnostics import DeidError, Diagnostic, Span

INSECURE_DEMO_KEY = b"deidc-insecure-demo-key: never use for real data"
MIN_KEY_BYTES = 16


def resolve_keys(plan: Plan, insecure_demo_key: bool = False) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    problems: list[Diagnostic] = []
    for name, source in plan.secrets.items():
        span = Span(source.origin.file, source.origin.line, source.origin.column,
                    source.origin.line, source.origin.column + len(name))
        if insecure_demo_key:
            keys[name] = INSECURE_DEMO_KEY
            continue
        if source.kind == "env":
            value = os.environ.get(source.name, "").encode()
            where = f"environment variable {source.name}"
            fix = f"export {source.name}=<a long random secret> (e.g. `openssl rand -hex 32`), or pass --insecure-demo-key for a demo"
        else:
            where = f"key file {source.name}"
            fix = "create the key file with a long random secret, readable only by you"
            exposed = _exposed(Path(source.name))
            if exposed:  # like ssh with a private key: a key others can read protects no one
                problems.append(Diagnostic("error", f"secret '{name}': {where} {exposed}", span, code="DR003",
                                           hint=f"chmod 600 {source.name} (and keep it owned by the user who runs deidc)"))
                continue
            try:
                value = Path(source.name).read_bytes().strip()
            except OSError as err:
                value, where = b"", f"key file {source.name} ({err.strerror})"
        if not value:
            problems.append(Diagnostic("error", f"secret '{name}' is missing: {where} is empty or not set", span,
                                       code="DR001", hint=fix))
        elif len(value) < MIN_KEY_BYTES:
            problems.append(Diagnostic("error", f"secret '{name}' from {where} is shorter than {MIN_KEY_BYTES} bytes",
                                       span, code="DR002", hint="use a long random secret"))
        else:
            keys[name] = value
    if problems:
        raise DeidError(problems)
    return keys


def _exposed(path: Path) -> str | None:
    """Why others could read or replace the key file, or None (a missing file is reported later)."""
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_uid != os.getuid():
        return f"belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o077:
        return f"can be read or written by others (mode {st.st_mode & 0o777:04o})"
    return None
