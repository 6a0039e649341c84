"""Local emulators of the CleverTap REST API and the Segment HTTP Tracking API.

Imports are lazy so the server process (`python -m clevertap_segment_sandbox serve`) does not
pay for `requests`, which only the client side needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clevertap_segment_sandbox.client import SandboxClient
    from clevertap_segment_sandbox.process import SandboxProcess
    from clevertap_segment_sandbox.settings import SandboxSettings

__all__ = ["SandboxClient", "SandboxProcess", "SandboxSettings"]

_HOMES = {
    "SandboxClient": "clevertap_segment_sandbox.client",
    "SandboxProcess": "clevertap_segment_sandbox.process",
    "SandboxSettings": "clevertap_segment_sandbox.settings",
}


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'clevertap_segment_sandbox' has no attribute {name!r}")
