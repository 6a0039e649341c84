"""Raw-HTTP callers for the sandbox's own tests (the shared fixtures come from the plugin).

The plugin pins today to 2026-11-20 (Asia/Kolkata), so the shared sandbox holds 14 days of
history: 20261106 .. 20261119. Test modules repeat those constants (pytest's importlib mode
does not let them import this file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from clevertap_segment_sandbox import SandboxClient, SandboxProcess

AUTH = {"X-CleverTap-Account-Id": "SANDBOX-ACCOUNT", "X-CleverTap-Passcode": "sandbox-passcode"}
WRITE_KEY = "sandbox-write-key"


class CleverTap:
    """Speaks to the CleverTap emulator the way a careful client does (cursor verbatim)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers.update(AUTH)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, **kwargs)

    def open(
        self, event: str, first: int, last: int, stream: str = "events", query: str = ""
    ) -> str:
        response = self.post(
            f"/1/{stream}.json{query}", {"event_name": event, "from": first, "to": last}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "success"
        assert set(body) == {"cursor", "status"}
        return str(body["cursor"])

    def page(self, cursor: str, stream: str = "events") -> dict[str, Any]:
        response = self.get(f"/1/{stream}.json?cursor={cursor}")
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    def walk(self, cursor: str, stream: str = "events") -> list[dict[str, Any]]:
        """Every page until next_cursor is absent (the documented termination rule)."""
        pages = []
        for _ in range(10_000):
            page = self.page(cursor, stream)
            pages.append(page)
            if "next_cursor" not in page:
                return pages
            assert page["next_cursor"] != cursor
            cursor = page["next_cursor"]
        raise AssertionError("cursor chain did not end")

    def export(
        self, event: str, first: int, last: int, stream: str = "events", query: str = ""
    ) -> list[dict[str, Any]]:
        pages = self.walk(self.open(event, first, last, stream, query), stream)
        return [record for page in pages for record in page.get("records", [])]

    def upload(self, records: Any, query: str = "") -> requests.Response:
        return self.post(f"/1/upload{query}", {"d": records})


class Segment:
    """Speaks to the Segment emulator with the write key as HTTP Basic user."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def post(
        self, path: str, body: Any, auth: tuple[str, str] | None = (WRITE_KEY, ""), **kwargs: Any
    ) -> requests.Response:
        return self.session.post(self.base + path, json=body, auth=auth, **kwargs)

    def batch(self, items: list[dict[str, Any]], **envelope: Any) -> requests.Response:
        return self.post("/v1/batch", {"batch": items, **envelope})


@pytest.fixture
def clevertap(sandbox: SandboxProcess, sandbox_client: SandboxClient) -> Iterator[CleverTap]:
    client = CleverTap(sandbox.clevertap_url)
    yield client
    client.session.close()


@pytest.fixture
def segment(sandbox: SandboxProcess, sandbox_client: SandboxClient) -> Iterator[Segment]:
    client = Segment(sandbox.segment_url)
    yield client
    client.session.close()


@pytest.fixture
def caller_for() -> Iterator[Callable[[SandboxProcess], CleverTap]]:
    """Build a CleverTap caller for a sandbox started by sandbox_factory."""
    callers: list[CleverTap] = []

    def build(sandbox: SandboxProcess) -> CleverTap:
        callers.append(CleverTap(sandbox.clevertap_url))
        return callers[-1]

    yield build
    for caller in callers:
        caller.session.close()


@pytest.fixture(scope="session")
def summary(sandbox: SandboxProcess) -> dict[str, Any]:
    """Ground truth of the shared sandbox at the pinned date (its seed never changes)."""
    result: dict[str, Any] = sandbox.client.seed_summary()
    return result
