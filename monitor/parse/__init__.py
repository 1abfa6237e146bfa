"""Parse: bytes a source gave us → ``Entry`` records, one per report."""
