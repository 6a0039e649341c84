"""The one HTTP layer of the plugins: sessions, retryable errors, Retry-After, redirects refused.

Used by tap-clevertap's client, the delivery engine of both targets and target-clevertap's schema
reader. Backoff schedules stay with their callers (the tap's are settings; the targets' is
``RetryPolicy``); what a network error or a ``Retry-After`` header means is decided here only.
"""

from __future__ import annotations

import threading
import time
import typing as t
from email.utils import parsedate_to_datetime
from importlib import metadata

import requests
import urllib3

#: Errors after which a request may be sent again (what the server did with it is another matter:
#: see ``MAYBE_PROCESSED`` and ``never_sent``).
NETWORK_ERRORS: t.Final = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionResetError,
)
#: The request may have been read and processed: the server got it and no answer came back.
MAYBE_PROCESSED: t.Final = (
    requests.exceptions.ReadTimeout,
    requests.exceptions.ChunkedEncodingError,
)
#: Longest ``Retry-After`` wait honoured by default; a longer one is shortened to this.
RETRY_AFTER_CAP_SECONDS: t.Final = 300.0


def user_agent(distribution: str) -> str:
    """``<plugin>/<version>``: the version is the installed distribution's (its pyproject's)."""
    try:
        return f"{distribution}/{metadata.version(distribution)}"
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return f"{distribution}/unknown"


def never_sent(exc: BaseException) -> bool:
    """Whether the request failed before a connection existed (so the server never saw it)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or not exc.args:
        return False
    reason = getattr(exc.args[0], "reason", None)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def parse_retry_after(
    value: str | None, *, now: float | None = None, cap: float = RETRY_AFTER_CAP_SECONDS
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), at most ``cap``."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN  # noqa: PLR0124
        return None
    return max(0.0, min(seconds, cap))


class ThreadSessions:
    """One ``requests.Session`` per thread (a session is not safe to share between threads).

    Proxies and the CA bundle come from the environment, read once per session: requests would
    read the whole environment and look for a .netrc on every request otherwise (about 2 ms
    each), and a .netrc entry would replace the vendor's auth header.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()

    def get(self) -> requests.Session:
        """This thread's session."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            settings = session.merge_environment_settings(self.url, {}, None, None, None)
            session.proxies.update(settings["proxies"])
            session.verify = settings["verify"]
            session.trust_env = False
            self._local.session = session
        return session
