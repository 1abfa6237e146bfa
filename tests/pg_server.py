"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temporary cluster, loopback.

No system service is used: ``initdb`` makes a cluster in a temporary folder and ``pg_ctl``
runs it on a free port of 127.0.0.1 only, its unix socket inside that folder. PostgreSQL
refuses to run as root, so under root the server runs as the ``postgres`` user that Debian's
package creates (or a ``monitor-test`` system user made here when that is missing).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "monitor"
# Durability buys nothing for a throwaway cluster; these make it several times faster.
_FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class Unavailable(Exception):
    """PostgreSQL's server binaries are not installed here: the reason, for a skip."""


def server_binaries() -> Path:
    """$MONITOR_PG_BIN, else Debian's newest /usr/lib/postgresql/<version>/bin (15 on Debian 12)."""
    if given := os.environ.get("MONITOR_PG_BIN"):
        return Path(given)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise Unavailable("no initdb in /usr/lib/postgresql/*/bin (Debian package postgresql)")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _server_user() -> str | None:
    """Who runs the server: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "monitor-test"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "monitor-test"],
        check=True,
        capture_output=True,
    )
    return "monitor-test"


@dataclass
class PostgresServer:
    root: Path
    port: int
    user: str | None
    bin: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [*args] if self.user is None else ["runuser", "-u", self.user, "--", *args]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    @classmethod
    def start(cls) -> PostgresServer:
        binaries = server_binaries()
        if not (binaries / "initdb").is_file():
            raise Unavailable(f"PostgreSQL server binaries not found in {binaries}")
        user = _server_user()
        root = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
        if user is not None:
            shutil.chown(root, user)
        server = cls(root, _free_port(), user, binaries)
        server._run(
            str(server.bin / "initdb"),
            "-D",
            str(server.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={server.port}",
            f"-c unix_socket_directories={root}",
            *(f"-c {o}" for o in _FAST),
        ]
        server._run(
            str(server.bin / "pg_ctl"),
            "-D",
            str(server.data),
            "-l",
            str(root / "server.log"),
            "-o",
            " ".join(options),
            "-w",
            "start",
        )
        return server

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
