"""Names of the rules a record can break, shared by local checks and CleverTap's answers.

A record refused locally and one refused by CleverTap for the same reason carry the same rule name
in the rejected-records output and the run summary; ``code`` tells them apart (CleverTap's code is
set only when CleverTap answered).
"""

from __future__ import annotations

from dataclasses import dataclass

from clevertap_segment_common.delivery import UNCERTAIN_RULE


@dataclass(frozen=True)
class Rule:
    """One rule: its name, CleverTap's error code for it (if any), and what it checks."""

    name: str
    code: int | None
    checks: str
    local: bool = True


EVENT_NAME_MISSING = Rule("event_name_missing", 509, "an event has a name")
NESTED_VALUE = Rule(
    "nested_value",
    512,
    "no objects or lists inside properties except profile multi-value string lists, "
    "$add/$remove/$incr/$decr operations and the Charged event's Items (a list of flat objects); "
    "per nested_values they are stringified or passed through (at most 3 levels)",
)
RESTRICTED_EVENT = Rule(
    "restricted_event", 513, "the event is not a CleverTap system event (App Launched, ...)"
)
INVALID_GENDER = Rule("invalid_gender", 514, "Gender is M or F (male/female/m/f are converted)")
INVALID_EMAIL = Rule("invalid_email", 515, "Email looks like name@domain.tld")
INVALID_PHONE = Rule(
    "invalid_phone", 516, "Phone is E.164: + and 7-15 digits (spaces, dashes, dots removed)"
)
INVALID_EMPLOYED = Rule("invalid_employed", 517, "Employed is Y or N (booleans, yes/no converted)")
INVALID_EDUCATION = Rule("invalid_education", 518, "Education is School, College or Graduate")
INVALID_MARRIED = Rule("invalid_married", 519, "Married is Y or N (booleans, yes/no converted)")
INVALID_AGE = Rule("invalid_age", 520, "Age is a whole number from 0 to 150")
INVALID_DOB = Rule(
    "invalid_dob",
    None,
    "DOB is a date: an ISO 8601 date or date-time, or $D_<epoch seconds> (other text would be "
    "stored as text, not as a date)",
)
INVALID_SUBSCRIPTION = Rule(
    "invalid_subscription_flag",
    None,
    "MSG-email, MSG-push, MSG-sms and MSG-whatsapp are booleans (true/false, not text)",
)
TOO_MANY_PROPERTIES = Rule(
    "too_many_properties",
    522,
    "an event has at most max_event_properties properties; a profile at most 256 custom keys",
)
MISSING_IDENTITY = Rule(
    "missing_identity", 523, "the record has an identity or objectId (non-empty)"
)
INVALID_TIMESTAMP = Rule(
    "invalid_timestamp", 525, "the time is a date-time or positive epoch seconds"
)
KEY_TOO_LONG = Rule("key_too_long", None, "property names are at most 120 bytes (UTF-8)")
VALUE_TOO_LONG = Rule(
    "value_too_long", None, "text values (and stringified objects) are at most 512 bytes (UTF-8)"
)
EMPTY_KEY = Rule("empty_property_name", None, "a property name is not empty after normalization")
COLLISION = Rule(
    "property_name_collision",
    None,
    "two property names do not normalize to the same key (collision_policy: error)",
)
UNSUPPORTED_MESSAGE = Rule(
    "unsupported_message_type", None, "a Segment message is identify/track/page/screen/alias"
)
DELIVERY_UNCERTAIN = Rule(
    UNCERTAIN_RULE,
    None,
    "the record was not in flight when a run was killed or a request got no answer "
    "(journal_uncertain: reject)",
)

# Only CleverTap can tell (account schema, server state).
NOT_EVENT_OR_PROFILE = Rule("not_event_or_profile", 524, "type is event or profile", local=False)
INVALID_OBJECT_ID = Rule("invalid_object_id", 526, "objectId is a valid CleverTap id", local=False)
DISCARDED_EVENT = Rule(
    "discarded_event", 528, "the event was not discarded in the dashboard", local=False
)
SERVER_ERROR = Rule("server_error", 555, "CleverTap's miscellaneous server error", local=False)
REQUEST_REFUSED = Rule(
    "request_refused",
    400,
    "CleverTap accepts the record in a request on its own (a 400 isolated by bisection)",
    local=False,
)

ALL_RULES: tuple[Rule, ...] = (
    EVENT_NAME_MISSING,
    NESTED_VALUE,
    RESTRICTED_EVENT,
    INVALID_GENDER,
    INVALID_EMAIL,
    INVALID_PHONE,
    INVALID_EMPLOYED,
    INVALID_EDUCATION,
    INVALID_MARRIED,
    INVALID_AGE,
    INVALID_DOB,
    INVALID_SUBSCRIPTION,
    TOO_MANY_PROPERTIES,
    MISSING_IDENTITY,
    INVALID_TIMESTAMP,
    KEY_TOO_LONG,
    VALUE_TOO_LONG,
    EMPTY_KEY,
    COLLISION,
    UNSUPPORTED_MESSAGE,
    DELIVERY_UNCERTAIN,
    NOT_EVENT_OR_PROFILE,
    INVALID_OBJECT_ID,
    DISCARDED_EVENT,
    SERVER_ERROR,
    REQUEST_REFUSED,
)
RULE_BY_CODE: dict[int, Rule] = {r.code: r for r in ALL_RULES if r.code is not None}
