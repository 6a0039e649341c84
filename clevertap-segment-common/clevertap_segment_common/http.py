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
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

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
#: A connection reset or close counts too once the whole request was sent (``maybe_processed``).
MAYBE_PROCESSED: t.Final = (
    requests.exceptions.ReadTimeout,
    requests.exceptions.ChunkedEncodingError,
)
#: Longest ``Retry-After`` wait honoured by default; a longer one is shortened to this.
RETRY_AFTER_CAP_SECONDS: t.Final = 300.0
#: A pooled connection idle longer than this is not used again. Servers and the load balancers in
#: front of them drop idle keep-alive connections, some silently (the next request on it is reset
#: and the client cannot tell whether it was processed); the lowest common default is 5 s
#: (Node.js's keepAliveTimeout), so 4 s stays below it. CleverTap does not document its own.
CONNECTION_IDLE_SECONDS: t.Final = 4.0


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


def maybe_processed(exc: BaseException) -> bool:
    """Whether the server may have processed a request that failed with this network error.

    A reset or close that came after the last byte of the request was handed to the socket is
    what a server (or the proxy in front of it) that processed the request and then dropped the
    connection produces, and so is a silently dropped idle connection; the client cannot tell
    them apart. Idle connections are not reused (``CONNECTION_IDLE_SECONDS``), so the first
    hardly happens and such a reset is taken for a processed request. One during the send, or
    before a connection existed, cannot have been processed.
    """
    if isinstance(exc, MAYBE_PROCESSED):
        return True
    if never_sent(exc):
        return False
    return bool(getattr(_progress, "sent", False))


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


#: Per thread: whether the last request of this thread was sent whole (``maybe_processed``).
_progress = threading.local()


class _IdleBound:
    """Mixed into urllib3's connections: one idle past ``idle_limit`` counts as closed.

    The pool then opens a new connection instead of sending on one a server may have dropped.
    Each connection also records whether a request was sent whole (see ``maybe_processed``).
    """

    idle_limit: float = CONNECTION_IDLE_SECONDS
    _last_used: float | None = None

    @property
    def is_connected(self) -> bool:
        last = self._last_used
        if last is not None and time.monotonic() - last > self.idle_limit:
            return False
        return bool(super().is_connected)  # type: ignore[misc]

    def request(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().request(*args, **kwargs)  # type: ignore[misc]
        _progress.sent = True

    def getresponse(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            self._last_used = time.monotonic()


class _IdleBoundAdapter(HTTPAdapter):
    """requests' adapter with pools of idle-bound connections."""

    def __init__(self, idle_limit: float) -> None:
        self._idle_limit = idle_limit
        super().__init__()

    def send(self, *args: t.Any, **kwargs: t.Any) -> requests.Response:
        _progress.sent = False
        return super().send(*args, **kwargs)

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        limit = {"idle_limit": self._idle_limit}
        plain = type("IdleBoundHTTPConnection", (_IdleBound, HTTPConnection), limit)
        tls = type("IdleBoundHTTPSConnection", (_IdleBound, HTTPSConnection), limit)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("IdleBoundHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
            "https": type("IdleBoundHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": tls}),
        }


class ThreadSessions:
    """One ``requests.Session`` per thread (a session is not safe to share between threads).

    Proxies and the CA bundle come from the environment, read once per session: requests would
    read the whole environment and look for a .netrc on every request otherwise (about 2 ms
    each), and a .netrc entry would replace the vendor's auth header. Pooled connections are
    not reused after ``idle_seconds`` (see ``CONNECTION_IDLE_SECONDS``).
    """

    def __init__(self, url: str, idle_seconds: float = CONNECTION_IDLE_SECONDS) -> None:
        self.url = url
        self.idle_seconds = idle_seconds
        self._local = threading.local()

    def get(self) -> requests.Session:
        """This thread's session."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = _IdleBoundAdapter(self.idle_seconds)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            settings = session.merge_environment_settings(self.url, {}, None, None, None)
            session.proxies.update(settings["proxies"])
            session.verify = settings["verify"]
            session.trust_env = False
            self._local.session = session
        return session
