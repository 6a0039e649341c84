"""Does Segment know this write key? The Tracking API cannot tell: it answers 200 to any key.

Segment's own "Segment" actions destination validates keys the same way: a GET of the source's
settings on the settings CDN, which answers 404 ("Invalid path or write key provided.") for a key
it does not know. The key is part of that URL, so a redirect is never followed (it would send the
key to another address): it stops the run like an unknown key, saying where it pointed.
"""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass
from urllib.parse import quote

import requests
from clevertap_segment_common.delivery import RetryPolicy
from clevertap_segment_common.endpoints import redirect_summary

if t.TYPE_CHECKING:
    from clevertap_segment_common.redaction import SecretScrubber

_ATTEMPTS: t.Final = 3
_TRANSIENT: t.Final = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class KeyCheck:
    """``known``: True, False (Segment says no, or the check was redirected), or None (unknown)."""

    known: bool | None
    message: str


def check_write_key(
    settings_url: str,
    write_key: str,
    scrubber: SecretScrubber,
    *,
    timeout: float = 15.0,
    retry: RetryPolicy | None = None,
) -> KeyCheck:
    """Ask the settings CDN about the key, retrying transient failures a few times."""
    retry = retry or RetryPolicy(base_delay=0.5, max_delay=2.0)
    url = f"{settings_url}/v1/projects/{quote(write_key, safe='')}/settings"
    problem = ""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            response = requests.get(url, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            problem = f"network error {type(exc).__name__}"
        else:
            if response.status_code == 200:
                return KeyCheck(
                    True, f"Segment knows this write key (settings at {settings_url} answered 200)."
                )
            if response.status_code == 404:
                body = scrubber.scrub(response.text[:120].strip())
                return KeyCheck(
                    False,
                    f"Segment does not know this write key: {settings_url} answered 404 "
                    f"({body!r}). Calls sent with it would be answered 200 and discarded. Check "
                    "write_key (copy it from the source's settings in Segment) and region.",
                )
            if 300 <= response.status_code < 400:
                return KeyCheck(
                    False,
                    f"Could not check the write key: {redirect_summary(response)}. The key is "
                    "part of the URL, so redirects are not followed. Set settings_url to the "
                    "final URL (or verify_write_key to false to skip the check).",
                )
            problem = f"HTTP {response.status_code}"
            if response.status_code not in _TRANSIENT:
                break
        if attempt < _ATTEMPTS:
            time.sleep(retry.backoff(attempt + 1))
    return KeyCheck(None, f"Could not verify the write key with {settings_url}: {problem}.")
