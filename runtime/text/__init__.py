"""Free text: the PHI forms collected values take, `clean`'s matching, element texts and a rule file's own regexes."""
