"""deidc: a DICOM de-identification compiler."""
__version__ = "0.1.0"
