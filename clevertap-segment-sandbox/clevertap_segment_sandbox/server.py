"""Runs both emulators in one process and announces where they listen."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import TYPE_CHECKING

from aiohttp import web

from clevertap_segment_sandbox.clevertap_app import build_clevertap_app
from clevertap_segment_sandbox.seed_profiles import ALL_FLAGS
from clevertap_segment_sandbox.segment_app import build_segment_app
from clevertap_segment_sandbox.state import SandboxState

if TYPE_CHECKING:
    from pathlib import Path

    from clevertap_segment_sandbox.settings import SandboxSettings

READY_PREFIX = "api-sandbox ready "


async def _start(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024, reuse_address=True)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


async def warm_profiles(state: SandboxState, chunk: int = 64) -> None:
    """Build profile fragments in the background so the first export pages are not cold.

    Yields to the event loop between chunks: requests always go first.
    """
    for start in range(0, state.profiles.count, chunk):
        for index in range(start, min(start + chunk, state.profiles.count)):
            state.profiles.event_profile_json(index, ALL_FLAGS)
        await asyncio.sleep(0)


def _write_ready_file(path: Path, payload: dict[str, object]) -> None:
    """Atomically, so a watcher never reads half a file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(payload))
    temporary.replace(path)


async def serve(settings: SandboxSettings, ready_file: Path | None = None) -> None:
    """Listen until SIGTERM/SIGINT; print the ready line once both servers accept connections."""
    state = SandboxState(settings)
    clevertap_runner, clevertap_url = await _start(
        build_clevertap_app(state), settings.host, settings.clevertap_port
    )
    segment_runner, segment_url = await _start(
        build_segment_app(state), settings.host, settings.segment_port
    )
    urls = {"clevertap_url": clevertap_url, "segment_url": segment_url}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if ready_file is not None:
        _write_ready_file(ready_file, {**urls, "pid": os.getpid()})
    sys.stdout.write(READY_PREFIX + json.dumps(urls) + "\n")
    sys.stdout.flush()
    warming = asyncio.create_task(warm_profiles(state))
    try:
        await stop.wait()
    finally:
        warming.cancel()
        await clevertap_runner.cleanup()
        await segment_runner.cleanup()
