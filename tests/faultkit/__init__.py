"""A seeded fault corpus: real DICOM files that carry a planted PHI marker, broken in known ways,
and the checks the fault suite makes on what `deidc apply` released from them.

Not a test package: tests/faults/ import it by name (tests/conftest.py puts tests/ on sys.path),
bench/fuzz.py and bench/kill_resume.py put tests/ on sys.path themselves.

In: a folder, a count and a seed (`make_corpus`, `valid_corpus`); a finished run (`check_run`).
Out: byte-identical corpora for a seed, `RunFindings` for a run, and the helpers that run the CLI.

Modules, each importing only the ones before it:
  sources          paths, the marker and its placeholders, the real files (`SOURCES`)
  layout           transfer syntaxes and a strict reader/encoder of the byte layout (`walk`, `parse_meta`)
  bases            the real files with the marker planted (`bases`, `Base`)
  mutate_bytes     truncation, bit flips, wrong lengths (`m_*`)
  mutate_structure file meta, random bytes, VRs, nesting, 10 MB values, a bomb, not DICOM (`m_*`)
  mutations        the table of mutations (`MUTATIONS`, `BY_NAME`)
  ambiguity        whether some clean reading of a mutant leaves the marker where no rule removes it
  corpus           the corpora on disk (`make_corpus`, `load_corpus`, `valid_corpus`, `Mutant`)
  running          `deidc apply` as a subprocess, output digests, /proc helpers (`run_apply`, `ApplyRun`)
  checks           every check on one run (`check_run`, `RunFindings`)

This module re-exports the names tests/faults/, bench/fuzz.py and bench/kill_resume.py use.
"""
from faultkit.ambiguity import ambiguity
from faultkit.bases import bases
from faultkit.checks import DCMDUMP, SIDE_FILES, RunFindings, check_run, read_quarantine, reason_kind
from faultkit.corpus import Mutant, load_corpus, make_corpus, valid_corpus
from faultkit.layout import _tag_text, parse_meta
from faultkit.mutate_structure import m_bomb
from faultkit.mutations import BY_NAME, MUTATIONS
from faultkit.running import (
                              JOURNAL,
                              ApplyRun,
                              apply_command,
                              cli_env,
                              deidc_command,
                              descendants,
                              pool_workers,
                              rss,
                              run_apply,
                              settled,
                              tree_difference,
                              tree_digests,
                              wait_gone,
)
from faultkit.sources import REPO, RULESETS

__all__ = [
    "BY_NAME", "DCMDUMP", "JOURNAL", "MUTATIONS", "REPO", "RULESETS", "SIDE_FILES",
    "ApplyRun", "Mutant", "RunFindings",
    "_tag_text", "ambiguity", "apply_command", "bases", "check_run", "cli_env", "deidc_command", "descendants",
    "load_corpus", "m_bomb", "make_corpus", "parse_meta", "pool_workers", "read_quarantine", "reason_kind",
    "rss", "run_apply", "settled", "tree_difference", "tree_digests", "valid_corpus", "wait_gone",
]
