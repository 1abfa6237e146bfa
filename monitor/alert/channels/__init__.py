"""Channels: where a briefing goes. Each takes a Briefing and returns the provider's id."""

from __future__ import annotations

from typing import Protocol

from monitor.alert.briefing import Briefing


class Channel(Protocol):
    name: str

    def send(self, briefing: Briefing) -> str:
        """Deliver, or raise; the return value is the provider's message id."""
        ...


class PermanentError(Exception):
    """The channel refused for good (bad address, revoked token): do not retry."""
