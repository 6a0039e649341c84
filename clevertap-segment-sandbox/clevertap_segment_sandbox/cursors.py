"""Stateless export cursors: the position travels inside a signed, opaque token.

Like CleverTap's (docs/clevertap-api.md §2.1, [O]) the token is long (about 1,900 characters),
base64 and then percent-encoded, so it arrives containing %2B, %2F and %3D and must be sent back
verbatim. Nothing is stored per cursor, so the server never grows with the number of exports.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass, replace
from urllib.parse import quote

EVENTS_EXPORT = 0
PROFILES_EXPORT = 1

_VERSION = 1
_HEAD = struct.Struct(">BBBHIIHHIIQd")
_LENGTH = struct.Struct(">H")
_MAC_BYTES = 16
# Raw size before base64: gives ~1,870 base64 characters, ~1,900 once percent-encoded.
_RAW_BYTES = 1_330


@dataclass(frozen=True)
class CursorState:
    """Where an export chain stands; `issued_at` (epoch seconds) drives expiry."""

    kind: int
    flags: int
    event_index: int
    first_ordinal: int
    last_ordinal: int
    per_bucket: int
    segment: int
    page: int
    snapshot_ordinal: int
    chain: int
    issued_at: float
    filters: bytes = b""

    def advanced(self, segment: int, page: int, issued_at: float) -> CursorState:
        """The state of the next page."""
        return replace(self, segment=segment, page=page, issued_at=issued_at)


class CursorCodec:
    """Signs and verifies cursors with a key derived from the seed and the account."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, state: CursorState) -> str:
        """The percent-encoded token a client must append verbatim."""
        payload = (
            _HEAD.pack(
                _VERSION,
                state.kind,
                state.flags,
                state.event_index,
                state.first_ordinal,
                state.last_ordinal,
                state.per_bucket,
                state.segment,
                state.page,
                state.snapshot_ordinal,
                state.chain,
                state.issued_at,
            )
            + state.filters
        )
        mac = self._mac(payload)
        body = _LENGTH.pack(len(payload)) + payload + mac
        padding = b""
        block = mac
        while len(body) + len(padding) < _RAW_BYTES:
            block = hashlib.sha512(block).digest()
            padding += block
        raw = body + padding[: max(_RAW_BYTES - len(body), 0)]
        return quote(base64.b64encode(raw).decode("ascii"), safe="")

    def decode(self, token: str) -> CursorState | None:
        """The state inside a (once URL-decoded) token, or None if it is not one of ours."""
        try:
            raw = base64.b64decode(token.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return None
        if len(raw) < _LENGTH.size:
            return None
        (length,) = _LENGTH.unpack_from(raw)
        payload = raw[_LENGTH.size : _LENGTH.size + length]
        mac = raw[_LENGTH.size + length : _LENGTH.size + length + _MAC_BYTES]
        if len(payload) < _HEAD.size or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        fields = _HEAD.unpack_from(payload)
        if fields[0] != _VERSION:
            return None
        (
            _,
            kind,
            flags,
            event_index,
            first,
            last,
            per_bucket,
            segment,
            page,
            snapshot,
            chain,
            issued,
        ) = fields
        return CursorState(
            kind=kind,
            flags=flags,
            event_index=event_index,
            first_ordinal=first,
            last_ordinal=last,
            per_bucket=per_bucket,
            segment=segment,
            page=page,
            snapshot_ordinal=snapshot,
            chain=chain,
            issued_at=issued,
            filters=payload[_HEAD.size :],
        )
