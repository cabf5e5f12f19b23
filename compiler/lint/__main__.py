"""`python -m deidc.compiler.lint` prints docs/lint.md."""
from deidc.compiler.lint import docs_markdown

print(docs_markdown(), end="")
