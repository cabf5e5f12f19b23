"""The runtime: applies a compiled Plan to DICOM files (see DESIGN.md for the stages)."""
