"""The daemon tests' fixtures; their helpers live in daemon_support.py, imported by name (two
modules called ``conftest`` in one test run would shadow each other)."""

from daemon_support import clock, feed_server, make_daemon

__all__ = ["clock", "feed_server", "make_daemon"]
