"""End-to-end fixtures: real `meltano` subprocesses in this project against the sandbox.

Every test gets its own system database (state, run history) and output directory, so tests never
see each other's bookmarks and never touch the developer's `.meltano/meltano.db`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import typing as t

import pytest

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from clevertap_segment_sandbox import SandboxProcess

from pathlib import Path

from pipeline_support import (
    MELTANO,
    ROOT,
    MeltanoProject,
    PostgresServer,
    postgres_bindir,
    project_env,
)


@pytest.fixture(scope="session")
def meltano_installed() -> None:
    """`meltano install` once per session (a file lock keeps parallel workers from racing)."""
    lock_path = ROOT / ".meltano" / "install.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            [MELTANO, "install"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture
def meltano_project(
    meltano_installed: None, sandbox: SandboxProcess, tmp_path: Path
) -> MeltanoProject:
    """The project wired to the session sandbox (reset before the test)."""
    sandbox.client.reset()
    env, output = project_env(sandbox, tmp_path)
    return MeltanoProject(env=env, output=output)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a throwaway cluster (as the `postgres` user when running as root, as CI does)."""
    bindir = postgres_bindir()
    if bindir is None:
        missing = (
            "PostgreSQL server binaries not found under /usr/lib/postgresql: install them with "
            "`apt-get install postgresql` (.ci/run does when run as root) to run the "
            "system-database tests"
        )
        if os.environ.get("CI"):  # CI must run every test: a missing server is a failure there
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    # Not under pytest's 0700 temp root: the server may run as another user (postgres).
    base = Path(tempfile.mkdtemp(prefix="meltano-systemdb-"))
    base.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data = base / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    as_user: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def pg(*args: str) -> None:
        result = subprocess.run([*as_user, *args], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr

    pg(str(bindir / "initdb"), "-D", str(data), "-U", "meltano", "--auth=trust", "-E", "UTF8")
    pg(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(base / "server.log"),
        "-o",
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
        "-w",
        "start",
    )
    try:
        pg(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "meltano", "meltano")
        yield PostgresServer(port=port)
    finally:
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
