"""Stream mappings: which record fields become which parts of one Segment call.

A mapping is plain configuration (``stream_mappings`` / ``default_mapping``), parsed once at
start-up so a typo fails the run before any record is read, naming the setting and the key.

Value sources (``user_id``, ``event``, ``timestamp``, ...):
  ``"field"`` or ``"a.b.0.c"``  a field, or a dotted path into objects/arrays (a field whose own
                                name contains dots is matched by its full name first);
  ``["a", "b"]``                the first of these that is present and non-empty;
  ``{"value": "Signed Up"}``    a constant;
  ``{"field": "change", "map": {"entered": "Audience Entered"}}``  a field's value translated
                                (a value the map does not list counts as missing).
Object sources (``traits``, ``properties``, ``context``):
  ``"*"``                       every top-level field not used by another part of the mapping;
  ``"field"``                   the object stored in that field;
  ``["a", "b.c"]``              just these fields (named by their last path segment);
  ``{"from", "exclude", "rename", "merge", "fields", "keyed"}``  the full form: a base object
                                ("*" or a field), keys left out, keys renamed, objects merged in
                                (keys already present win), named fields added (non-null values
                                win), and ``keyed`` pairs whose key is itself read from the record
                                (``{"audience_key": "in_audience"}``: the value of field
                                audience_key names the key, in_audience gives its value).
A mapping may also say ``"when": {"change": ["entered", "exited"]}``: records whose fields hold
none of the listed values get no call from it. ``{"calls": [mapping, ...]}`` makes several calls
from each record (identify and track, say); they are delivered or rejected together.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from functools import cached_property

CALL_TYPES: t.Final = ("identify", "track", "page", "screen", "group", "alias")
IGNORE: t.Final = "ignore"
MESSAGE_ID_MODES: t.Final = ("key", "content")

# The object part of each call type and the scalars only that type takes.
PAYLOAD_OF: t.Final[dict[str, str | None]] = {
    "identify": "traits",
    "track": "properties",
    "page": "properties",
    "screen": "properties",
    "group": "traits",
    "alias": None,
}
SCALARS_OF: t.Final[dict[str, tuple[str, ...]]] = {
    "identify": (),
    "track": ("event",),
    "page": ("name", "category"),
    "screen": ("name", "category"),
    "group": ("group_id",),
    "alias": ("previous_id",),
}
COMMON_SCALARS: t.Final = ("user_id", "anonymous_id", "timestamp")
ALL_SCALARS: t.Final = (*COMMON_SCALARS, "event", "name", "category", "group_id", "previous_id")
OTHER_KEYS: t.Final = ("type", "context", "message_id", "clevertap_dates", "when")
OBJECT_FORM_KEYS: t.Final = ("from", "exclude", "rename", "merge", "fields", "keyed")


class MappingConfigError(ValueError):
    """A mapping in the configuration is malformed; the message names the setting and the key."""


class _Missing:
    """The value of a path that does not exist in the record (distinct from an explicit null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: t.Final = _Missing()


def _present(value: t.Any) -> bool:
    return value is not None and value != "" and value is not MISSING


@dataclass(frozen=True)
class FieldPath:
    """A field name or dotted path into a record."""

    text: str
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> FieldPath:
        """A path from its dotted text."""
        return cls(text, tuple(text.split(".")))

    @property
    def top_field(self) -> str | None:
        """The top-level field this path consumes as a whole (None for a path into an object)."""
        return self.text if len(self.parts) == 1 else None

    def get(self, record: t.Mapping[str, t.Any]) -> t.Any:
        """The value at this path, or MISSING."""
        if self.text in record:
            return record[self.text]
        value: t.Any = record
        for part in self.parts:
            if isinstance(value, dict):
                if part not in value:
                    return MISSING
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return MISSING
        return value


@dataclass(frozen=True)
class ValueSource:
    """Where one scalar of the call comes from: fallback paths or a constant."""

    paths: tuple[FieldPath, ...] = ()
    constant: t.Any = MISSING
    lookup: t.Mapping[str, t.Any] | None = None

    def describe(self) -> str:
        """How the source reads in an error message."""
        if self.constant is not MISSING:
            return f"the constant {self.constant!r}"
        if self.lookup is not None:
            return f"field '{self.paths[0].text}' translated by {dict(self.lookup)!r}"
        if len(self.paths) == 1:
            return f"field '{self.paths[0].text}'"
        return "fields " + ", ".join(f"'{p.text}'" for p in self.paths)

    def reader(self) -> t.Callable[[t.Mapping[str, t.Any]], t.Any]:
        """``resolve`` specialised for this source, for the per-record path."""
        if (
            self.constant is MISSING
            and self.lookup is None
            and len(self.paths) == 1
            and len(self.paths[0].parts) == 1
        ):
            name = self.paths[0].text
            return lambda record: record.get(name, MISSING)
        return self.resolve

    def resolve(self, record: t.Mapping[str, t.Any]) -> t.Any:
        """First present, non-empty value; else the first value found (null or ""); else MISSING."""
        if self.constant is not MISSING:
            return self.constant
        if self.lookup is not None:
            value = self.paths[0].get(record)
            return self.lookup.get(value, MISSING) if isinstance(value, str) else MISSING
        if len(self.paths) == 1:
            return self.paths[0].get(record)
        fallback: t.Any = MISSING
        for path in self.paths:
            value = path.get(record)
            if _present(value):
                return value
            if fallback is MISSING:
                fallback = value
        return fallback

    def top_fields(self) -> set[str]:
        """Top-level fields this source consumes."""
        return {p.top_field for p in self.paths if p.top_field is not None}


class NotAnObjectError(Exception):
    """An object source points at a value that is not an object."""

    def __init__(self, path: str, value: t.Any) -> None:
        super().__init__(path)
        self.path = path
        self.kind = type(value).__name__


class KeyNotStringError(Exception):
    """A ``keyed`` pair's key field does not hold a non-empty string."""

    def __init__(self, source: ValueSource, value: t.Any) -> None:
        super().__init__(source.describe())
        self.source = source
        self.value = value


@dataclass(frozen=True)
class ObjectSource:
    """Where an object of the call (traits, properties, context) comes from."""

    base: FieldPath | None = None
    rest: bool = False  # "*": the top-level fields nothing else uses
    exclude: frozenset[str] = frozenset()
    rename: t.Mapping[str, str] = field(default_factory=dict)
    merge: tuple[FieldPath, ...] = ()
    fields: t.Mapping[str, ValueSource] = field(default_factory=dict)
    keyed: tuple[tuple[ValueSource, ValueSource], ...] = ()

    @cached_property
    def plain(self) -> bool:
        """Only `from` a field (the usual traits/properties): build copies that object."""
        return self.base is not None and not (
            self.rest or self.exclude or self.rename or self.merge or self.fields or self.keyed
        )

    def top_fields(self) -> set[str]:
        """Top-level fields this source consumes."""
        used: set[str] = set()
        for path in (self.base, *self.merge):
            if path is not None and path.top_field is not None:
                used.add(path.top_field)
        for source in (*self.fields.values(), *(s for pair in self.keyed for s in pair)):
            used |= source.top_fields()
        return used

    def build(
        self, record: t.Mapping[str, t.Any], used_elsewhere: frozenset[str]
    ) -> tuple[dict[str, t.Any], int]:
        """The object, and how many keys lost to a key already present (rename or merge)."""
        if self.plain:
            return self._object_at(t.cast("FieldPath", self.base), record), 0
        result: dict[str, t.Any] = {}
        if self.rest:
            result = {
                k: v for k, v in record.items() if k not in used_elsewhere and k not in self.exclude
            }
        elif self.base is not None:
            result = self._object_at(self.base, record)
            if self.exclude:
                result = {k: v for k, v in result.items() if k not in self.exclude}
        clashes = 0
        if self.rename:
            renamed: dict[str, t.Any] = {}
            for key, value in result.items():
                new_key = self.rename.get(key, key)
                if new_key in renamed:
                    clashes += 1
                else:
                    renamed[new_key] = value
            result = renamed
        for path in self.merge:
            for key, value in self._object_at(path, record).items():
                if key in result:
                    clashes += 1
                else:
                    result[key] = value
        for name, source in self.fields.items():
            value = source.resolve(record)
            if value is not None and value is not MISSING:
                result[name] = value
        for key_source, value_source in self.keyed:
            key = key_source.resolve(record)
            if not isinstance(key, str) or not key:
                raise KeyNotStringError(key_source, key)
            value = value_source.resolve(record)
            if value is not MISSING:
                result[key] = value
        return result, clashes

    @staticmethod
    def _object_at(path: FieldPath, record: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        value = path.get(record)
        if value is None or value is MISSING:
            return {}
        if not isinstance(value, dict):
            raise NotAnObjectError(path.text, value)
        return dict(value)


@dataclass(frozen=True)
class StreamMapping:
    """A parsed mapping: everything needed to turn one record into one call."""

    call_type: str
    where: str
    scalars: t.Mapping[str, ValueSource]
    payload: ObjectSource | None
    context: ObjectSource | None
    message_id: str
    clevertap_dates: bool
    used_fields: frozenset[str]
    when: tuple[tuple[FieldPath, tuple[t.Any, ...]], ...] = ()

    def applies_to(self, record: t.Mapping[str, t.Any]) -> bool:
        """Whether the record passes every ``when`` condition of this mapping."""
        if not self.when:  # most mappings: no generator per record
            return True
        return all(path.get(record) in values for path, values in self.when)

    @property
    def payload_name(self) -> str | None:
        """``traits`` or ``properties`` (None for alias)."""
        return PAYLOAD_OF[self.call_type]


def _value_source(raw: t.Any, where: str) -> ValueSource:
    if isinstance(raw, str) and raw:
        return ValueSource(paths=(FieldPath.parse(raw),))
    if isinstance(raw, list) and raw and all(isinstance(p, str) and p for p in raw):
        return ValueSource(paths=tuple(FieldPath.parse(p) for p in raw))
    if isinstance(raw, dict) and set(raw) == {"value"}:
        return ValueSource(constant=raw["value"])
    if (
        isinstance(raw, dict)
        and set(raw) == {"field", "map"}
        and isinstance(raw["field"], str)
        and raw["field"]
        and isinstance(raw["map"], dict)
        and raw["map"]
    ):
        return ValueSource(paths=(FieldPath.parse(raw["field"]),), lookup=dict(raw["map"]))
    msg = (
        f'{where} must be a field name or dotted path ("profile.identity"), a list of them '
        f'(first non-empty wins), {{"value": <constant>}} or {{"field": <field>, "map": '
        f"{{<value>: <replacement>}}}}; got {raw!r}."
    )
    raise MappingConfigError(msg)


def _string_list(raw: t.Any, where: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        msg = f"{where} must be a list of field names, got {raw!r}."
        raise MappingConfigError(msg)
    return list(raw)


def _object_source(raw: t.Any, where: str) -> ObjectSource:
    if raw == "*":
        return ObjectSource(rest=True)
    if isinstance(raw, str) and raw:
        return ObjectSource(base=FieldPath.parse(raw))
    if isinstance(raw, list):
        paths = [FieldPath.parse(p) for p in _string_list(raw, where)]
        return ObjectSource(fields={p.parts[-1]: ValueSource(paths=(p,)) for p in paths})
    if not isinstance(raw, dict):
        msg = (
            f'{where} must be "*", a field name, a list of field names or an object with '
            f"{', '.join(OBJECT_FORM_KEYS)}; got {raw!r}."
        )
        raise MappingConfigError(msg)
    unknown = sorted(set(raw) - set(OBJECT_FORM_KEYS))
    if unknown:
        msg = f"{where} has unknown key(s) {unknown}; allowed: {', '.join(OBJECT_FORM_KEYS)}."
        raise MappingConfigError(msg)
    base = raw.get("from")
    if base is not None and not (isinstance(base, str) and base):
        msg = f'{where}.from must be "*" or a field name, got {base!r}.'
        raise MappingConfigError(msg)
    rename = raw.get("rename", {})
    if not isinstance(rename, dict) or not all(isinstance(v, str) for v in rename.values()):
        msg = f"{where}.rename must map source keys to new key names, got {rename!r}."
        raise MappingConfigError(msg)
    fields = raw.get("fields", {})
    if not isinstance(fields, dict):
        msg = f"{where}.fields must map output keys to value sources, got {fields!r}."
        raise MappingConfigError(msg)
    keyed = raw.get("keyed", {})
    if not isinstance(keyed, dict):
        msg = (
            f"{where}.keyed must map the field naming each key to the source of its value, "
            f'e.g. {{"audience_key": "in_audience"}}; got {keyed!r}.'
        )
        raise MappingConfigError(msg)
    return ObjectSource(
        base=FieldPath.parse(base) if base and base != "*" else None,
        rest=base == "*",
        exclude=frozenset(_string_list(raw.get("exclude", []), f"{where}.exclude")),
        rename=dict(rename),
        merge=tuple(
            FieldPath.parse(p) for p in _string_list(raw.get("merge", []), f"{where}.merge")
        ),
        fields={k: _value_source(v, f"{where}.fields.{k}") for k, v in fields.items()},
        keyed=tuple(
            (_value_source(k, f"{where}.keyed"), _value_source(v, f"{where}.keyed.{k}"))
            for k, v in keyed.items()
        ),
    )


def parse_mapping(raw: t.Any, where: str) -> StreamMapping | None:
    """Parse one mapping object (after presets are applied); None means "ignore the stream"."""
    if not isinstance(raw, dict):
        msg = f'{where} must be an object such as {{"type": "track", "event": ...}}.'
        raise MappingConfigError(msg)
    call_type = raw.get("type")
    if call_type == IGNORE:
        return None
    if call_type not in CALL_TYPES:
        msg = f"{where}.type must be one of {', '.join((*CALL_TYPES, IGNORE))}; got {call_type!r}."
        raise MappingConfigError(msg)
    payload_name = PAYLOAD_OF[call_type]
    allowed = {*COMMON_SCALARS, *SCALARS_OF[call_type], *OTHER_KEYS}
    if payload_name:
        allowed.add(payload_name)
    wrong = sorted(set(raw) - allowed)
    if wrong:
        msg = (
            f"{where} has key(s) {wrong} that a {call_type} call does not take; allowed: "
            f"{', '.join(sorted(allowed))}."
        )
        raise MappingConfigError(msg)
    scalars = {
        name: _value_source(raw[name], f"{where}.{name}")
        for name in ALL_SCALARS
        if raw.get(name) is not None
    }
    required = {"track": "event", "group": "group_id", "alias": "previous_id"}.get(call_type)
    if required and required not in scalars:
        msg = f"{where}: a {call_type} mapping needs `{required}`."
        raise MappingConfigError(msg)
    if call_type == "alias" and "user_id" not in scalars:
        msg = f"{where}: an alias mapping needs `user_id` (the new id) and `previous_id`."
        raise MappingConfigError(msg)
    if call_type != "alias" and not {"user_id", "anonymous_id"} & set(scalars):
        msg = f"{where}: map `user_id` or `anonymous_id` (Segment discards calls with neither)."
        raise MappingConfigError(msg)
    payload = (
        _object_source(raw.get(payload_name, "*"), f"{where}.{payload_name}")
        if payload_name
        else None
    )
    context = _object_source(raw["context"], f"{where}.context") if raw.get("context") else None
    state_like = call_type in ("identify", "group")
    message_id = raw.get("message_id") or ("content" if state_like else "key")
    if message_id not in MESSAGE_ID_MODES:
        msg = (
            f"{where}.message_id must be one of {', '.join(MESSAGE_ID_MODES)}; got {message_id!r}."
        )
        raise MappingConfigError(msg)
    clevertap_dates = raw.get("clevertap_dates", False)
    if not isinstance(clevertap_dates, bool):
        msg = f"{where}.clevertap_dates must be true or false, got {clevertap_dates!r}."
        raise MappingConfigError(msg)
    when = _when(raw.get("when"), f"{where}.when")
    used: set[str] = set()
    for source in scalars.values():
        used |= source.top_fields()
    if context is not None:
        used |= context.top_fields()
    if payload is not None:
        used |= payload.top_fields()
    return StreamMapping(
        call_type=call_type,
        where=where,
        scalars=scalars,
        payload=payload,
        context=context,
        message_id=message_id,
        clevertap_dates=clevertap_dates,
        used_fields=frozenset(used),
        when=when,
    )


def _when(raw: t.Any, where: str) -> tuple[tuple[FieldPath, tuple[t.Any, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw or not all(isinstance(k, str) and k for k in raw):
        msg = (
            f"{where} must map fields to the values that make the call, e.g. "
            f'{{"change": ["entered", "exited"]}}; got {raw!r}.'
        )
        raise MappingConfigError(msg)
    return tuple(
        (FieldPath.parse(path), tuple(values) if isinstance(values, list) else (values,))
        for path, values in raw.items()
    )


def parse_calls(raw: t.Any, where: str) -> tuple[StreamMapping, ...] | None:
    """Parse a mapping (after presets are applied) into its calls; None means "ignore"."""
    if isinstance(raw, dict) and "calls" in raw:
        calls = raw["calls"]
        extra = sorted(set(raw) - {"calls"})
        if not isinstance(calls, list) or not calls or extra:
            msg = (
                f'{where} must be {{"calls": [mapping, ...]}} with at least one mapping and no '
                f"other key (got {'keys ' + str(extra) if extra else repr(calls)})."
            )
            raise MappingConfigError(msg)
        parsed = [parse_mapping(call, f"{where}.calls[{i}]") for i, call in enumerate(calls)]
        if any(call is None for call in parsed):
            msg = f'{where}.calls: a call cannot be {{"type": "ignore"}}; leave it out instead.'
            raise MappingConfigError(msg)
        return tuple(t.cast("list[StreamMapping]", parsed))
    mapping = parse_mapping(raw, where)
    return None if mapping is None else (mapping,)
