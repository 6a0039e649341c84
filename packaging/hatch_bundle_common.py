"""Build hook: a plugin's wheel carries the shared package ``clevertap_segment_common``.

The shared package is not published on its own, so a plugin installed from a git URL
(``git+https://...#subdirectory=tap-clevertap``) with pip or uv must bring it along: the
plugins do not list it as a dependency, and their (non-editable) wheels include it. Editable
installs of the workspace use the workspace's own ``clevertap-segment-common`` instead.
Each plugin gets its own virtual environment under Meltano, ``uv tool`` and ``pipx``; two
plugins installed into one environment carry identical copies only if built from one commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHARED = "clevertap_segment_common"


class BundleSharedPackage(BuildHookInterface):  # type: ignore[type-arg]
    """Force-include the shared package into non-editable wheels."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Add ``clevertap_segment_common`` to the wheel (not to editable or sdist builds)."""
        if self.target_name != "wheel" or version == "editable":
            return
        source = Path(self.root).parent / "clevertap-segment-common" / SHARED
        if not (source / "__init__.py").is_file():
            msg = f"{source} not found: build the plugin from a checkout of the whole repository"
            raise FileNotFoundError(msg)
        build_data["force_include"][str(source)] = SHARED
