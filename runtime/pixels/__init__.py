"""Burned-in text: OCR and the redaction of words that match the file's PHI."""
