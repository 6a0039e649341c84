"""DOB and the MSG-* subscription flags: sent only in the form CleverTap reads as a date / boolean.

docs/clevertap-api.md §4.4: the subscription flags are booleans (no text form is documented, so none
is accepted), and a date is ``$D_<epoch seconds>`` - any other DOB would be stored as plain text.
"""

from __future__ import annotations

import datetime as dt

import pytest
from clevertap_testkit import build, build_upload, record, rejection_of, run_target, schema

PROFILE = {"identity": "id"}
FLAGS = ("MSG-email", "MSG-push", "MSG-sms", "MSG-whatsapp")
DOB_1990_01_31 = "$D_633744000"  # 1990-01-31T00:00:00Z


def profile(**data: object) -> dict[str, object]:
    return {"id": "u-1", **data}


@pytest.mark.parametrize("flag", FLAGS)
def test_subscription_flags_keep_booleans(flag) -> None:
    upload = build_upload(profile(**{flag: True, "other": 1}), PROFILE)
    assert upload["profileData"] == {flag: True, "other": 1}
    assert build_upload(profile(**{flag: False}), PROFILE)["profileData"] == {flag: False}


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("MSG-email", "true"),
        ("MSG-push", "False"),
        ("MSG-sms", "yes"),
        ("MSG-whatsapp", 1),
        ("MSG-email", 0),
        ("MSG-sms", ["true"]),
    ],
)
def test_subscription_flags_refuse_anything_but_a_boolean(flag, value) -> None:
    rejection = rejection_of(profile(**{flag: value}), PROFILE)
    assert (rejection.rule, rejection.field, rejection.code) == (
        "invalid_subscription_flag",
        flag,
        None,
    )
    assert "must be a boolean" in rejection.reason
    assert flag in rejection.reason


@pytest.mark.parametrize(
    "value",
    [
        "1990-01-31",
        " 1990-01-31 ",
        "1990-01-31T00:00:00Z",
        "1990-01-31T05:30:00+05:30",
        dt.date(1990, 1, 31),
        dt.datetime(1990, 1, 31, tzinfo=dt.UTC),
        DOB_1990_01_31,
    ],
)
def test_dob_in_a_date_form_becomes_a_clevertap_date(value) -> None:
    assert build_upload(profile(DOB=value), PROFILE)["profileData"] == {"DOB": DOB_1990_01_31}


@pytest.mark.parametrize(
    "value",
    ["31/01/1990", "Jan 31, 1990", "1990-02-30", "$D_soon", "", 633744000, 633744000.0, True],
)
def test_dob_that_is_not_a_date_is_left_out_naming_the_format(value) -> None:
    upload, dropped = build(profile(DOB=value, Name="Ana"), PROFILE)
    assert upload["profileData"] == {"Name": "Ana"}
    ((key, rejection),) = [(d.key, d.rejection) for d in dropped]
    assert (key, rejection.rule, rejection.field, rejection.code) == (
        "DOB",
        "invalid_dob",
        "DOB",
        None,
    )
    assert "YYYY-MM-DD" in rejection.reason
    assert "$D_<epoch seconds>" in rejection.reason
    if isinstance(value, str) and value:
        assert value not in rejection.reason


def test_segment_birthday_that_is_not_a_date_is_rejected_as_dob_when_asked() -> None:
    message = {"type": "identify", "userId": "u-1", "traits": {"birthday": "17.04.1991"}}
    rejection = rejection_of(message, {"preset": "segment"}, drop_invalid_fields=False)
    assert (rejection.rule, rejection.field) == ("invalid_dob", "DOB")


def test_only_the_valid_profiles_reach_clevertap(config, sandbox_client) -> None:
    config["stream_mappings"] = {"people": PROFILE}
    run = run_target(
        config,
        [
            schema("people", {"id": {}, "DOB": {}, "MSG-sms": {}}),
            record("people", {"id": "good", "DOB": "1990-01-31", "MSG-sms": False}),
            record("people", {"id": "bad-dob", "DOB": "01/31/1990"}),
            record("people", {"id": "bad-flag", "MSG-sms": "false"}),
        ],
    )
    rejected = [r for r in run.rejects if r["kind"] == "rejected_record"]
    assert [(r["record"]["id"], r["rule"], r["field"]) for r in rejected] == [
        ("bad-flag", "invalid_subscription_flag", "MSG-sms"),
    ]
    dropped = [r for r in run.rejects if r["kind"] == "dropped_field"]
    assert [(r["record_key"], r["rule"], r["field"], r["value"]) for r in dropped] == [
        ("identity:bad-dob", "invalid_dob", "DOB", "01/31/1990"),
    ]
    stored = {p["identity"]: p["profileData"] for p in sandbox_client.clevertap_profiles()}
    assert set(stored) == {"good", "bad-dob"}  # delivered without its DOB
    assert stored["good"]["MSG-sms"] is False
    assert stored["bad-dob"] == {}
