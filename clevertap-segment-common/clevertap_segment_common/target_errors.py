"""Errors the targets raise for a record or for their settings (the messages say what to do)."""

from __future__ import annotations

import typing as t

from clevertap_segment_common.delivery import Rejection


class RecordRejectedError(Exception):
    """Raised by a sink's ``prepare`` when a record breaks a rule; it goes to the rejects output."""

    def __init__(
        self,
        rule: str,
        reason: str,
        *,
        field: str | None = None,
        code: int | str | None = None,
        details: dict[str, t.Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.rejection = Rejection(
            reason=reason, rule=rule, code=code, field=field, details=details
        )


class ConnectionCheckError(RuntimeError):
    """``--test`` failed; the message says what to change."""
