"""A private PostgreSQL cluster on loopback, for Meltano's system database and Airflow's.

Debian's server binaries (`apt-get install postgresql`), trust authentication for the user
`meltano`, listening on 127.0.0.1 only. As root the server runs as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from types import TracebackType

USER = "meltano"


def free_port() -> int:
    """A TCP port nothing listens on right now (on 127.0.0.1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresMissingError(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


class LocalPostgres:
    """A cluster in `directory` (created on first start, kept afterwards unless removed)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = 0
        self._bindir = self.bindir()

    @staticmethod
    def bindir() -> Path:
        """The newest installed server version's binaries."""
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
        if not candidates:
            msg = (
                "PostgreSQL server binaries not found under /usr/lib/postgresql: install them "
                "with `apt-get install postgresql`."
            )
            raise PostgresMissingError(msg)
        return candidates[-1].parent

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*as_postgres, *args], capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            msg = (
                f"{Path(args[0]).name} failed ({result.returncode}): {result.stdout}{result.stderr}"
            )
            raise RuntimeError(msg)
        return result

    def start(self) -> LocalPostgres:
        """Create the cluster if needed and start it on a free port."""
        data = self.directory / "data"
        if not data.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            self.directory.chmod(0o755)
            if os.geteuid() == 0:
                shutil.chown(self.directory, "postgres")
            self._run(
                str(self._bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
            )
        pg_ctl = str(self._bindir / "pg_ctl")
        if self._run(pg_ctl, "-D", str(data), "status", check=False).returncode == 0:
            self._run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")  # left by a crash
        self.port = free_port()
        self._run(
            str(self._bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
            "-w",
            "start",
        )
        return self

    def create_database(self, name: str) -> None:
        """Create a database unless it exists."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists is None:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def database_uri(self, database: str) -> str:
        """SQLAlchemy URI with the psycopg 3 driver (Meltano's postgres extra, and Airflow's)."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    @property
    def uri(self) -> str:
        """URI of the `meltano` database."""
        return self.database_uri("meltano")

    def stop(self) -> None:
        """Stop the server (fast shutdown) unless it already stopped; the cluster's files stay."""
        if not self.port:
            return
        self.port = 0
        data = str(self.directory / "data")
        if (
            self._run(str(self._bindir / "pg_ctl"), "-D", data, "status", check=False).returncode
            == 0
        ):
            self._run(str(self._bindir / "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop")

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
