"""The watchlists in force in a running daemon, reloaded when their files change.

An operator edits YAML by hand while alerts flow. A broken edit must not silence the
daemon: it keeps alerting on the last good version, says so loudly in the log, and exposes
the problems; the fixed file is installed on the next change, without a restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from watchfiles import Change, awatch

from monitor.watchlist.loader import Problem, WatchlistError, load_watchlists, watchlist_files
from monitor.watchlist.schema import Watchlist

log = logging.getLogger(__name__)


class LiveWatchlists:
    """The last good version of the watchlists under ``location`` (a folder or one file).

    ``on_change`` receives each newly installed version; the daemon passes
    ``pipeline.set_watchlists``. Call ``reload()`` once at start: if it installs nothing,
    ``problems`` says why and there is no version to run on.
    """

    def __init__(
        self, location: Path, on_change: Callable[[list[Watchlist]], None] | None = None
    ) -> None:
        self.location = location
        self.on_change = on_change
        self.current: list[Watchlist] = []
        self.problems: list[Problem] = []
        self.installed_at: datetime | None = None
        self._fingerprint: str | None = None

    def reload(self) -> bool:
        """Install the files on disk if they changed and are valid; True if installed."""
        fingerprint = _fingerprint(self.location)
        if fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        try:
            watchlists = load_watchlists(self.location)
        except WatchlistError as exc:
            self.problems = exc.problems
            keeping = (
                f"keeping the version installed at {self.installed_at:%Y-%m-%d %H:%M:%S}"
                if self.installed_at
                else "no version installed"
            )
            log.error(
                "watchlists %s are broken, %s; fix:\n%s",
                self.location,
                keeping,
                "\n".join(str(p) for p in exc.problems),
            )
            return False
        self.current, self.problems = watchlists, []
        self.installed_at = datetime.now().astimezone()
        if self.on_change is not None:
            self.on_change(watchlists)
        log.warning(
            "watchlists %s installed: %s",
            self.location,
            ", ".join(w.name or "" for w in watchlists) or "none",
        )
        return True

    async def watch(
        self,
        stop_event: asyncio.Event | None = None,
        debounce_ms: int = 500,
        force_polling: bool | None = None,
    ) -> None:
        """Reload on every change to the watchlist files until ``stop_event`` is set.

        Watches the folder (or the file's folder: editors save by renaming a new file over
        the old one, which a watch on the file itself would lose).
        """
        folder = self.location if self.location.is_dir() else self.location.parent
        async for _ in awatch(
            folder,
            watch_filter=self._relevant,
            stop_event=stop_event,
            debounce=debounce_ms,
            force_polling=force_polling,
        ):
            self.reload()

    def _relevant(self, change: Change, path: str) -> bool:
        changed = Path(path)
        if changed.suffix not in (".yaml", ".yml"):
            return False
        if self.location.is_dir():
            return True
        return changed.name == self.location.name


def _fingerprint(location: Path) -> str:
    """The files' names and contents: a reload is due when this changes."""
    digest = hashlib.sha256()
    try:
        for path in watchlist_files(location) if location.exists() else []:
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError as exc:  # a file renamed away mid-save: the next event brings it back
        digest.update(repr(exc).encode())
    return digest.hexdigest()
