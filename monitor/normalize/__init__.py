"""Normalize: an ``Entry`` → an ``Article`` with clean text, language, date and identity."""
