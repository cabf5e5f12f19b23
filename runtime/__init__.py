"""The runtime: applies a compiled Plan to DICOM files (see DESIGN.md for the stages)."""
import re

from pydicom import valuerep

# pydicom validates every UI value it converts or sets with a regex that backtracks on long
# digit runs (25 µs for a 2.25.<38 digits> UID, most of the cost of a remapped UID). The same
# language, possessive: linear time, same values accepted.
_UI = r"^(?:0|[1-9][0-9]*+)(?:\.(?:0|[1-9][0-9]*+))*+$"
valuerep.STR_VR_REGEXES["UI"] = re.compile(_UI)
valuerep.BYTE_VR_REGEXES["UI"] = re.compile(_UI.encode())
