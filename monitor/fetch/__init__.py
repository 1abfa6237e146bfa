"""Fetch: HTTP with the limits and politeness the web requires."""
