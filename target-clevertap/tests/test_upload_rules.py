"""Every local rule, checked before any API call, naming the rule and the field.

A rule about one property costs that property only (on_invalid_field: drop_field, the default):
the record is delivered without it. A rule about the record (identity, event name, standard
profile fields CleverTap refuses whole records for, the property count) rejects the record.
"""

from __future__ import annotations

import datetime as dt

import pytest
from clevertap_testkit import build, build_upload, rejection_of

PROFILE = {"identity": "id"}
EVENT = {"kind": "event", "identity": "id", "event_name": "Thing Happened"}


def profile(**data: object) -> dict[str, object]:
    return {"id": "u-1", **data}


@pytest.mark.parametrize(
    ("value", "options", "rule", "field"),
    [
        (profile(Gender="other"), PROFILE, "invalid_gender", "Gender"),
        (profile(Email="tom(at)example.de"), PROFILE, "invalid_email", "Email"),
        (profile(Email=42), PROFILE, "invalid_email", "Email"),
        (profile(Phone="98765 01234"), PROFILE, "invalid_phone", "Phone"),
        (profile(Phone="+0123456789"), PROFILE, "invalid_phone", "Phone"),
        (profile(Phone="+1234"), PROFILE, "invalid_phone", "Phone"),
        (profile(Employed="sometimes"), PROFILE, "invalid_employed", "Employed"),
        (profile(Education="PhD"), PROFILE, "invalid_education", "Education"),
        (profile(Married=2), PROFILE, "invalid_married", "Married"),
        (profile(Age=-1), PROFILE, "invalid_age", "Age"),
        (profile(Age=151), PROFILE, "invalid_age", "Age"),
        (profile(Age=30.5), PROFILE, "invalid_age", "Age"),
        (profile(Age=True), PROFILE, "invalid_age", "Age"),
        (
            profile(**{f"p{i}": i for i in range(257)}),
            PROFILE,
            "too_many_properties",
            "profileData",
        ),
        (
            {"id": "u-1", "evt": "App Launched"},
            {**EVENT, "event_name": None, "event_name_field": "evt"},
            "restricted_event",
            "evtName",
        ),
        (
            {"id": "u-1", "evt": "notification clicked"},
            {**EVENT, "event_name": None, "event_name_field": "evt"},
            "restricted_event",
            "evtName",
        ),
        (
            {"id": "u-1", **{f"p{i}": i for i in range(101)}},
            EVENT,
            "too_many_properties",
            "evtData",
        ),
        ({"id": "", "a": 1}, PROFILE, "missing_identity", None),
        ({"id": None, "a": 1}, EVENT, "missing_identity", None),
        ({"id": "u", "at": -5}, {**PROFILE, "timestamp": "at"}, "invalid_timestamp", "at"),
        ({"id": "u", "at": "yesterday"}, {**PROFILE, "timestamp": "at"}, "invalid_timestamp", "at"),
        ({"id": "u", "at": True}, {**PROFILE, "timestamp": "at"}, "invalid_timestamp", "at"),
        ({"id": "u", "at": None}, {**PROFILE, "timestamp": "at"}, "invalid_timestamp", "at"),
        (
            {"id": "u", "evt": " "},
            {**EVENT, "event_name": None, "event_name_field": "evt"},
            "event_name_missing",
            "evt",
        ),
    ],
)
def test_rule(value, options, rule, field) -> None:
    rejection = rejection_of(value, options)
    assert (rejection.rule, rejection.field) == (rule, field)
    assert rejection.code is None  # set only when CleverTap itself answered


FIELD_RULES = [
    (profile(**{"k" * 121: 1}), PROFILE, "key_too_long", "k" * 120),
    (profile(**{"é" * 61: 1}), PROFILE, "key_too_long", "é" * 61),
    (profile(note="x" * 513), PROFILE, "value_too_long", "note"),
    (profile(note="é" * 257), PROFILE, "value_too_long", "note"),
    (profile(tags=["ok", "y" * 513]), PROFILE, "value_too_long", "tags"),
    (profile(blob={"a": "z" * 600}), PROFILE, "value_too_long", "blob"),
    (profile(points={"$incr": "ten"}), PROFILE, "nested_value", "points"),
    (profile(tags={"$add": [{"x": 1}]}), PROFILE, "nested_value", "tags"),
    (profile(DOB="31/01/1990"), PROFILE, "invalid_dob", "DOB"),
    ({"id": "u-1", "note": "x" * 513}, EVENT, "value_too_long", "note"),
    ({"id": "u-1", "k" * 121: 1}, EVENT, "key_too_long", "k" * 120),
]


@pytest.mark.parametrize(("value", "options", "rule", "field"), FIELD_RULES)
def test_field_rule_leaves_out_only_that_field(value, options, rule, field) -> None:
    upload, dropped = build({**value, "kept": "yes"}, options)
    data = upload["profileData" if "profileData" in upload else "evtData"]
    assert data == {"kept": "yes"}
    ((key, rejection),) = [(d.key, d.rejection) for d in dropped]
    assert key in value
    assert (rejection.rule, rejection.field) == (rule, field)
    assert f"the record was delivered without '{key}'" in rejection.reason


@pytest.mark.parametrize(("value", "options", "rule", "field"), FIELD_RULES)
def test_reject_record_keeps_field_rules_whole_record_rules(value, options, rule, field) -> None:
    rejection = rejection_of(value, options, drop_invalid_fields=False)
    assert (rejection.rule, rejection.field) == (rule, field)


def test_a_record_broken_twice_is_rejected_for_the_record_rule_with_nothing_dropped() -> None:
    rejection = rejection_of(profile(note="x" * 600, Email="nope"), PROFILE)
    assert rejection.rule == "invalid_email"


def test_rejection_reason_names_the_clevertap_code_without_the_value() -> None:
    rejection = rejection_of(profile(Email="private.person(at)example.de"), PROFILE)
    assert "code 515" in rejection.reason
    assert "private.person" not in rejection.reason


def test_event_property_limit_is_configurable() -> None:
    value = {"id": "u-1", **{f"p{i}": i for i in range(6)}}
    rejection = rejection_of(value, EVENT, max_event_properties=5)
    assert rejection.rule == "too_many_properties"
    assert len(build_upload(value, EVENT, max_event_properties=6)["evtData"]) == 6


def test_nested_values_are_stringified_by_default() -> None:
    upload = build_upload(
        {"id": "u-1", "address": {"city": "Pune", "zip": 411001}, "tags": ["a", 1]}, EVENT
    )
    assert upload["evtData"] == {"address": '{"city":"Pune","zip":411001}', "tags": '["a",1]'}


def test_nested_values_pass_through_up_to_three_levels() -> None:
    kept = {"a": {"b": {"c": 1, "when": dt.date(2026, 1, 1)}}}
    upload = build_upload({"id": "u-1", **kept}, EVENT, nested_values="pass_through")
    assert upload["evtData"] == {"a": {"b": {"c": 1, "when": "$D_1767225600"}}}
    three = {"a": {"b": {"c": {"d": 1}}}}
    assert (
        build_upload({"id": "u-1", **three}, EVENT, nested_values="pass_through")["evtData"]
        == three
    )
    upload, dropped = build(
        {"id": "u-1", "a": {"b": {"c": {"d": {"e": 1}}}}, "z": 1},
        EVENT,
        nested_values="pass_through",
    )
    assert upload["evtData"] == {"z": 1}
    assert [(d.key, d.rejection.rule, d.rejection.field) for d in dropped] == [
        ("a", "nested_value", "a.b.c.d")
    ]


def test_charged_items_must_be_a_list_of_objects() -> None:
    order = {
        "type": "track",
        "userId": "u",
        "event": "Order Completed",
        "properties": {"order_id": "o-1", "products": "x"},
    }
    upload, dropped = build(order, {"preset": "segment"})
    assert upload["evtData"] == {"Charged ID": "o-1"}
    assert [(d.key, d.rejection.rule, d.rejection.field) for d in dropped] == [
        ("Items", "nested_value", "Items")
    ]
    rejection = rejection_of(order, {"preset": "segment"}, drop_invalid_fields=False)
    assert (rejection.rule, rejection.field) == ("nested_value", "Items")


def test_items_outside_charged_are_an_ordinary_nested_value() -> None:
    upload = build_upload({"id": "u-1", "Items": [{"sku": "a"}]}, EVENT)
    assert upload["evtData"] == {"Items": '[{"sku":"a"}]'}


def test_empty_name_after_normalization_is_left_out() -> None:
    upload, dropped = build(profile(名前="x", b=1), PROFILE, property_names="go-snakecase")
    assert upload["profileData"] == {"b": 1}
    assert [(d.key, d.rejection.rule) for d in dropped] == [("", "empty_property_name")]


def test_names_colliding_after_normalization_are_rejected_naming_both() -> None:
    rejection = rejection_of(
        profile(**{"Industry Of Traits": 1, "industry_of_traits": 2}),
        PROFILE,
        property_names="segment",
    )
    assert (rejection.rule, rejection.field) == ("property_name_collision", "industry_of_traits")
    assert "'Industry Of Traits'" in rejection.reason
    assert "'industry_of_traits'" in rejection.reason


def test_collision_policy_first_wins_keeps_the_first_value() -> None:
    upload = build_upload(
        profile(**{"Industry Of Traits": 1, "industry_of_traits": 2}),
        PROFILE,
        property_names="segment",
        collision_policy="first_wins",
    )
    assert upload["profileData"] == {"industry_of_traits": 1}


def test_standard_fields_are_converted_to_clevertap_spelling() -> None:
    upload = build_upload(
        profile(
            Gender="MALE",
            Employed=True,
            Married="no",
            Education="college",
            Age="38",
            Phone="+1 (415) 555-1234",
            DOB=dt.date(1990, 1, 31),
            **{"MSG-email": False},
        ),
        PROFILE,
    )
    assert upload["profileData"] == {
        "Gender": "M",
        "Employed": "Y",
        "Married": "N",
        "Education": "College",
        "Age": 38,
        "Phone": "+14155551234",
        "DOB": "$D_633744000",
        "MSG-email": False,
    }


def test_dates_and_multi_values() -> None:
    upload = build_upload(
        profile(
            seen=dt.datetime(
                2026, 1, 1, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))
            ),
            naive=dt.datetime(2026, 1, 1),
            text_time="2026-01-01T00:00:00Z",
            plain_day="2026-01-01",
            tags=["a", 2, True, None],
            points={"$incr": 5},
        ),
        PROFILE,
    )
    assert upload["profileData"] == {
        "seen": "$D_1767225600",
        "naive": "$D_1767225600",
        "text_time": "$D_1767225600",
        "plain_day": "2026-01-01",
        "tags": ["a", "2", "true"],
        "points": {"$incr": 5},
    }


def test_date_strings_stay_text_when_conversion_is_off() -> None:
    upload = build_upload(
        profile(text_time="2026-01-01T00:00:00Z"), PROFILE, convert_date_strings=False
    )
    assert upload["profileData"] == {"text_time": "2026-01-01T00:00:00Z"}
