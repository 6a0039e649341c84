"""Seeded profiles and their JSON fragments, built once so export pages are concatenation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from clevertap_segment_sandbox.catalog import (
    ACTIVE_EVENTS,
    EVENTS,
    NOTIFICATION_EVENTS,
    PROFILE_PROPS,
)
from clevertap_segment_sandbox.prng import Stream, key64

APP = 1
EVENTS_SUMMARY = 2
PROFILE_DATA = 4
ALL_FLAGS = APP | EVENTS_SUMMARY | PROFILE_DATA

FIRST_NAMES = ("Aziza", "Rahul", "Mei", "Budi", "Priya", "Arjun", "Siti", "Wei", "Ananya", "Dewi")
LAST_NAMES = ("Kamila", "Sharma", "Tan", "Santoso", "Iyer", "Gupta", "Rahma", "Lim", "Rao")
DEVICES = (
    ("iOS", "Apple", "Iphone15,2", ("26.3.1", "18.1", "17.5")),
    ("iOS", "Apple", "Iphone14,5", ("18.1", "17.5")),
    ("Android", "Samsung", "SM-A546E", ("14", "13")),
    ("Android", "Xiaomi", "23053RN02Y", ("14", "13", "12")),
    ("Android", "Google", "Pixel 8", ("15", "14")),
)
APP_VERSIONS = ("5.3.1", "5.3.0", "5.2.4", "5.4.0")
ALWAYS_SUMMARISED = {event.name for event in ACTIVE_EVENTS + NOTIFICATION_EVENTS}

# About one profile in five never logged in: empty identity (docs/clevertap-api.md §2.3).
ANONYMOUS_SHARE = 0.2
# Profiles matched only through a device lack a top-level objectId in profile exports (§2.4).
NO_TOP_LEVEL_OBJECT_ID_SHARE = 0.1
SECOND_DEVICE_SHARE = 0.15


@dataclass(frozen=True)
class Device:
    """One device (platformInfo entry) of a profile."""

    object_id: str
    platform: str
    os_version: str
    app_version: str
    make: str
    model: str
    push_token: str


@dataclass(frozen=True)
class SeedProfile:
    """One seeded person (or anonymous device user)."""

    index: int
    identity: str
    name: str
    email: str
    phone: str
    devices: tuple[Device, ...]
    top_level_object_id: bool
    profile_data: dict[str, Any]
    events: dict[str, dict[str, int]]

    @property
    def object_id(self) -> str:
        """The primary device's CleverTap id."""
        return self.devices[0].object_id


def _object_id(stream: Stream) -> str:
    """A CleverTap-style device id."""
    return "__" + format(stream.next64(), "016x") + format(stream.next64(), "016x")


class ProfileFactory:
    """Derives profile `index` from the seed alone; caches what export pages reuse."""

    def __init__(self, seed: int, count: int, summary_epoch: int) -> None:
        self.seed = seed
        self.count = count
        self.summary_epoch = summary_epoch
        self._by_identity: dict[str, int] | None = None
        self._by_email: dict[str, int] | None = None
        self._by_object_id: dict[str, int] | None = None
        self.profile = lru_cache(maxsize=200_000)(self._build)
        self.event_profile_json = lru_cache(maxsize=200_000)(self._event_profile_json)
        self.profile_record_json = lru_cache(maxsize=200_000)(self._profile_record_json)

    def _ids(self, index: int) -> tuple[str, str, tuple[str, ...], bool]:
        """identity, email, device objectIds, anonymous? — cheap, for lookups."""
        stream = Stream(key64(self.seed, "profile-ids", index))
        anonymous = stream.chance(ANONYMOUS_SHARE)
        object_ids = [_object_id(stream)]
        if stream.chance(SECOND_DEVICE_SHARE):
            object_ids.append(_object_id(stream))
        if anonymous:
            return "", "", tuple(object_ids), True
        identity = str(4_000_000 + index * 10 + stream.below(10))
        first = FIRST_NAMES[index % len(FIRST_NAMES)].lower()
        return identity, f"{first}.{identity}@example.com", tuple(object_ids), False

    def _build(self, index: int) -> SeedProfile:
        identity, email, object_ids, anonymous = self._ids(index)
        stream = Stream(key64(self.seed, "profile", index))
        first, last = stream.choice(FIRST_NAMES), stream.choice(LAST_NAMES)
        devices = [self._device(stream, object_id) for object_id in object_ids]
        profile_data: dict[str, Any] = {}
        for prop in PROFILE_PROPS:
            if stream.chance(prop.presence * 0.9):
                profile_data[prop.name] = prop.make(stream)
        events: dict[str, dict[str, int]] = {}
        for event in EVENTS:
            bits = stream.next64()  # one draw per event: presence, age, recency, count
            if event.name in ALWAYS_SUMMARISED or bits & 0xFF < 205:
                first_seen = self.summary_epoch - 86_400 * (30 + (bits >> 8) % 700)
                last_seen = first_seen + (bits >> 24) % (self.summary_epoch - first_seen)
                events[event.name] = {
                    "count": 1 + int(((bits >> 48) / 65_536) ** 3 * 600),
                    "first_seen": first_seen,
                    "last_seen": last_seen,
                }
        return SeedProfile(
            index=index,
            identity=identity,
            name="" if anonymous else f"{first} {last}",
            email=email,
            phone="" if anonymous else f"+91{9_000_000_000 + stream.below(999_999_999)}",
            devices=tuple(devices),
            top_level_object_id=not stream.chance(NO_TOP_LEVEL_OBJECT_ID_SHARE),
            profile_data=profile_data,
            events=events,
        )

    @staticmethod
    def _device(stream: Stream, object_id: str) -> Device:
        platform, make, model, os_versions = stream.choice(DEVICES)
        return Device(
            object_id=object_id,
            platform=platform,
            os_version=stream.choice(os_versions),
            app_version=stream.choice(APP_VERSIONS),
            make=make,
            model=model,
            push_token=format(stream.next64(), "016x") * 4,
        )

    def all_identities(self, profile: SeedProfile) -> list[str]:
        """Every identity CleverTap merged into this profile (identity and email)."""
        return [value for value in (profile.identity, profile.email) if value]

    def _event_profile_json(self, index: int, flags: int) -> bytes:
        """The `profile` object of an events-export record (key order as captured live)."""
        profile = self.profile(index)
        device = profile.devices[0]
        body: dict[str, Any] = {
            "df": {},
            "name": profile.name,
            "push_token": device.push_token,
            "email": profile.email,
            "phone": profile.phone,
            "all_identities": self.all_identities(profile),
            "identity": profile.identity,
        }
        if flags & PROFILE_DATA:
            body["profileData"] = profile.profile_data
        if flags & EVENTS_SUMMARY:
            body["events"] = profile.events
        if flags & APP:
            body["os_version"] = device.os_version
            body["app_version"] = device.app_version
            body["make"] = device.make
            body["model"] = device.model
        body["platform"] = device.platform
        body["objectId"] = device.object_id
        return orjson.dumps(body)

    def profile_record(self, index: int, flags: int = ALL_FLAGS) -> dict[str, Any]:
        """A profiles-export / profile.json record (docs/clevertap-api.md §2.4)."""
        profile = self.profile(index)
        record: dict[str, Any] = {
            "identity": profile.identity,
            "email": profile.email,
            "name": profile.name,
            "phone": profile.phone,
        }
        if profile.top_level_object_id:
            record["objectId"] = profile.object_id
        if flags & PROFILE_DATA:
            record["profileData"] = profile.profile_data
        if flags & EVENTS_SUMMARY:
            record["events"] = profile.events
        platform_info = []
        for device in profile.devices:
            entry: dict[str, Any] = {"platform": device.platform}
            if flags & APP:
                entry.update(
                    os_version=device.os_version,
                    app_version=device.app_version,
                    make=device.make,
                    model=device.model,
                )
            entry["push_token"] = device.push_token
            entry["objectId"] = device.object_id
            platform_info.append(entry)
        record["platformInfo"] = platform_info
        return record

    def filter_fields(self, index: int) -> dict[str, Any]:
        """What a query's profile_fields filters test: custom properties and standard fields."""
        profile = self.profile(index)
        standard = {"Name": profile.name, "Email": profile.email, "Phone": profile.phone}
        standard["Identity"] = profile.identity
        return {**{k: v for k, v in standard.items() if v}, **profile.profile_data}

    def _profile_record_json(self, index: int, flags: int) -> bytes:
        return orjson.dumps(self.profile_record(index, flags))

    def _build_indexes(self) -> None:
        by_identity: dict[str, int] = {}
        by_email: dict[str, int] = {}
        by_object_id: dict[str, int] = {}
        for index in range(self.count):
            identity, email, object_ids, _ = self._ids(index)
            if identity:
                by_identity[identity] = index
                by_email[email] = index
            for object_id in object_ids:
                by_object_id[object_id] = index
        self._by_identity, self._by_email, self._by_object_id = by_identity, by_email, by_object_id

    def find(self, *, identity: str = "", email: str = "", object_id: str = "") -> int | None:
        """Index of the seeded profile with this id (objectId also matches second devices)."""
        if self._by_identity is None:
            self._build_indexes()
        assert self._by_identity is not None
        assert self._by_email is not None
        assert self._by_object_id is not None
        if identity:
            return self._by_identity.get(identity)
        if email:
            return self._by_email.get(email.lower())
        return self._by_object_id.get(object_id)

    def counts(self) -> dict[str, int]:
        """Ground truth about the seeded profiles as a whole."""
        anonymous = sum(1 for index in range(self.count) if self._ids(index)[3])
        no_top = sum(
            1 for index in range(self.count) if not self.profile(index).top_level_object_id
        )
        return {
            "total": self.count,
            "identified": self.count - anonymous,
            "anonymous": anonymous,
            "without_top_level_object_id": no_top,
        }
