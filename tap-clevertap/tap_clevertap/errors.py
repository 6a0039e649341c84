"""Errors the tap raises, each carrying what a user needs to act on it (never the passcode)."""

from __future__ import annotations

from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, FatalSyncError


class CleverTapError(FatalAPIError):
    """A CleverTap call failed in a way that retrying will not fix."""


class CleverTapAuthError(CleverTapError):
    """CleverTap rejected the account id or passcode (HTTP 401/403)."""


class CleverTapEndpointError(CleverTapError):
    """The host answered but does not serve the CleverTap API (HTTP 404): wrong region/api_url."""


class CleverTapConnectionError(CleverTapError):
    """The CleverTap host could not be reached after all retries."""


class UnexportableEventError(CleverTapError):
    """CleverTap refuses to export this event (HTTP 400 "Export not allowed for this event")."""


class InvalidEventError(CleverTapError):
    """CleverTap does not know this event name (HTTP 400 "Invalid event")."""


class CursorExpiredError(CleverTapError):
    """A cursor page answered "Incorrect Usage" (code 3): the cursor expired or was mangled."""


class RepeatedCursorError(CleverTapError):
    """CleverTap handed back the cursor it was just asked for; following it would loop forever."""


class NotReadyError(CleverTapError):
    """CleverTap has no result for this request yet (e.g. a campaign that has not completed)."""


class RequestIdExpiredError(CleverTapError):
    """A count's req_id is unknown or expired; the query has to be issued again."""


class CountTimeoutError(CleverTapError):
    """A count query was still 'partial' when count_max_wait ran out."""


class MembershipStoreError(FatalSyncError):
    """The audience membership store cannot be used (locked, or out of step with the bookmark)."""


class SettingsError(ConfigValidationError):
    """A setting has a value the tap cannot work with."""

    def __init__(self, message: str) -> None:
        """Keep the message as the single validation error so the SDK CLI prints it."""
        super().__init__(message, errors=[message])
