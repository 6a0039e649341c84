"""Base-URL rules shared by the plugins: credentials never cross the network in plain HTTP."""

from __future__ import annotations

import ipaddress
import typing as t
from urllib.parse import urljoin, urlsplit

if t.TYPE_CHECKING:
    import requests

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback_host(host: str) -> bool:
    """True for localhost names and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def checked_base_url(url: str, *, setting: str = "api_url") -> str:
    """Return ``url`` without a trailing slash, or raise ValueError saying what to fix."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        msg = f"`{setting}` must be an absolute https:// URL, got {url!r}."
        raise ValueError(msg)
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        msg = (
            f"`{setting}` uses plain http:// for {parts.hostname!r}: credentials would travel "
            "unencrypted. Use https://, or http:// only for a loopback address such as the local "
            "sandbox (127.0.0.1 / localhost)."
        )
        raise ValueError(msg)
    return url.rstrip("/")


def redirect_summary(response: requests.Response) -> str:
    """Where a 3xx points, by scheme and host only: a path or query may hold a secret."""
    location = response.headers.get("Location")
    where = f"to {_origin(urljoin(response.url, location))}" if location else "(no Location)"
    return f"HTTP {response.status_code}: {_origin(response.url)} redirects {where}"


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, without user info, path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
