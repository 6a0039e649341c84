"""End-to-end fixtures: real `meltano` subprocesses in this project against the sandbox.

Every test gets its own system database (state, run history) and output directory, so tests never
see each other's bookmarks and never touch the developer's `.meltano/meltano.db`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import typing as t

import pytest

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from clevertap_segment_sandbox import SandboxProcess

from pathlib import Path

from local_airflow.postgres import LocalPostgres, PostgresMissingError
from pipeline_support import MELTANO, ROOT, MeltanoProject, project_env


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
def postgres_server() -> Iterator[LocalPostgres]:
    """A throwaway cluster with a `meltano` database (as `postgres` when running as root)."""
    try:
        LocalPostgres.bindir()
    except PostgresMissingError as missing:
        message = f"{missing} (.ci/run does when run as root) to run the system-database tests"
        if os.environ.get("CI"):  # CI must run every test: a missing server is a failure there
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # Not under pytest's 0700 temp root: the server may run as another user (postgres).
    base = Path(tempfile.mkdtemp(prefix="meltano-systemdb-"))
    server = LocalPostgres(base).start()
    try:
        server.create_database("meltano")
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


# Modules whose tests run `meltano` in this project. Meltano writes a plugin's invocation files
# under `.meltano/run/<plugin>/`, so two runs of one plugin at once overwrite each other's config:
# under pytest-xdist these tests run on one worker, one after another (pytest_xdist_make_scheduler).
MELTANO_PROJECT_MODULES = frozenset(
    {
        "test_airflow_schedules.py",
        "test_audiences.py",
        "test_jobs.py",
        "test_orchestration.py",
        "test_pipelines.py",
        "test_project_config.py",
        "test_reuse.py",
        "test_system_database.py",
    }
)
_GROUP = "meltano-project"


def _in_project_group(nodeid: str) -> bool:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[-1] in MELTANO_PROJECT_MODULES


# Modules whose tests each build fresh environments (minutes per test): started right after the
# project group, so that the shorter tests fill in around them instead of waiting at the end.
LONG_MODULES = frozenset({"test_python_versions.py", "test_user_project.py", "test_git_install.py"})


def _start_order(nodeid: str) -> int:
    if _in_project_group(nodeid):
        return 0
    return 1 if nodeid.split("::", 1)[0].rsplit("/", 1)[-1] in LONG_MODULES else 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that installs into this project is in the group; the group's tests come first.

    First, so that under pytest-xdist the longest unit of work starts at once while the other
    worker takes the long install tests, then the package tests.
    """
    stray = [
        item.nodeid
        for item in items
        if "meltano_installed" in getattr(item, "fixturenames", ())
        and not _in_project_group(item.nodeid)
    ]
    if stray:
        msg = f"add the modules of {stray} to MELTANO_PROJECT_MODULES in tests/conftest.py"
        raise pytest.UsageError(msg)
    items.sort(key=lambda item: _start_order(item.nodeid))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: t.Any) -> t.Any:
    """Load scheduling, with the tests of MELTANO_PROJECT_MODULES as one unit of work.

    (pytest-xdist's own `--dist loadgroup` cannot be used: with pytest 9 it no longer sees groups.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class ProjectTestsTogether(LoadScopeScheduling):  # type: ignore[misc]  # untyped base
        def _split_scope(self, nodeid: str) -> str:
            return _GROUP if _in_project_group(nodeid) else nodeid

    return ProjectTestsTogether(config, log)
