"""A database backfilled from the seeds (plus one hostile headline), and `monitor serve` on it.

The seeds are backfilled once per session with the real CLI; each server gets its own copy
of that database, so a test that changes data never disturbs another.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
HOSTILE_TITLE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">Baku'
CHROMIUM = Path("/usr/bin/chromium")


def monitor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


@pytest.fixture(scope="session")
def seeded_db(
    tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path, watchlists_dir: Path
) -> Path:
    """The seeds and one report with a hostile headline, backfilled by `monitor backfill`."""
    folder = tmp_path_factory.mktemp("seeded")
    corpus = folder / "corpus"
    shutil.copytree(seeds_dir, corpus)
    (corpus / "zzz_hostile.txt").write_text(
        f"{HOSTILE_TITLE}\n\nA report whose headline carries markup; Baku, 2 March 2024.\n",
        encoding="utf-8",
    )
    db = folder / "seeded.db"
    done = monitor(
        "backfill",
        str(corpus),
        "--database-url",
        f"sqlite:///{db}",
        "-w",
        str(watchlists_dir),
        "-q",
    )
    assert done.returncode == 0, done.stderr
    return db


def copy_db(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite database, WAL included."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def serve(
    seeded_db: Path, tmp_path_factory: pytest.TempPathFactory, watchlists_dir: Path
) -> Iterator[Callable[..., str]]:
    """Start `monitor serve` on 127.0.0.1 over a fresh copy of the seeded database."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str] | None = None) -> str:
        db = copy_db(seeded_db, tmp_path_factory.mktemp("served") / "monitor.db")
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "monitor",
                "serve",
                "--database-url",
                f"sqlite:///{db}",
                "-w",
                str(watchlists_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/api/openapi.json", timeout=1)
                return url
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"monitor serve exited with {process.returncode}") from None
                time.sleep(0.05)
        raise RuntimeError("monitor serve did not start")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server(serve: Callable[..., str]) -> str:
    """A read-mostly console shared by the browser tests."""
    return serve()


def chromium_path() -> Path:
    """Debian's chromium; installed here if missing and we may (CI installs it in .ci/run)."""
    if not CHROMIUM.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            capture_output=True,
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    if not CHROMIUM.exists():
        reason = "chromium is not installed and could not be installed (apt-get install chromium)"
        print(f"SKIP: {reason}", file=sys.stderr)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Module-scoped: Playwright's sync API holds an event loop that async tests must not meet."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
