"""A secret that cannot be read here.

What: `secret("VAR")` whose environment variable is not set in the current environment (a
warning: it may be set where `apply` runs), or `secret(file "...")` whose key file does not
exist (an error).

Why: keyed actions (`hash`, `pseudonym`, `remap uid`, `shift`) cannot run without the key;
`apply` would stop.

Bad:

    key = secret(file "keys/missing.key")

Good:

    key = secret("DEIDC_KEY")    # with DEIDC_KEY exported
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from deidc.diagnostics import Diagnostic

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    for name, source in ctx.plan.secrets.items():
        span = ctx.span(source.origin)
        if source.kind == "env" and not ctx.env.get(source.name):
            yield Diagnostic("warning", f"the secret '{name}' reads ${source.name}, which is not set here",
                             span, hint=f"export {source.name} before `deidc apply`")
        elif source.kind == "file" and not Path(source.name).is_file():
            yield Diagnostic("error", f"the secret '{name}' reads {source.name}, which does not exist",
                             span, hint="create the key file, or correct the path (relative to the rule file)")
