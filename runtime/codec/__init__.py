"""Bytes ↔ datasets: the structural check, the fast engine's reader, scanner and writer, and reading/writing files with either engine."""
