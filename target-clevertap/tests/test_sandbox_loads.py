"""Whole runs against the sandbox: the sample archive, name strategies, CleverTap's own refusals."""

from __future__ import annotations

import pytest
from clevertap_testkit import record, run_target, schema, segment_messages, state


def _profile(profiles: list[dict], identity: str) -> dict:
    return next(p for p in profiles if p.get("identity") == identity)["profileData"]


def test_sample_archive_loads_as_profiles_and_events(config, sandbox_client) -> None:
    config["stream_mappings"] = {"segment": {"preset": "segment"}}
    run = run_target(config, [*segment_messages(), state({"bookmarks": {"segment": 29}})])

    events = sandbox_client.clevertap_uploaded_events()
    assert len(events) == 16
    assert sorted(e["evtName"] for e in events).count("Charged") == 2
    charged = next(e for e in events if e["evtData"].get("Charged ID") == "ord-50017")
    assert charged["identity"] == "u-1001"
    assert charged["evtData"]["Amount"] == 179.8
    assert charged["evtData"]["Items"] == [
        {
            "product_id": "sku-1042",
            "sku": "TR2-42",
            "name": "Trail Runner 2",
            "price": 89.9,
            "quantity": 2,
            "category": "Shoes",
        }
    ]
    anonymous = next(e for e in events if e["evtName"] == "Newsletter Signup Viewed")
    assert anonymous["objectId"] == "c2d4e6f8-1a3b-4c5d-8e9f-0a1b2c3d4e5f"

    profile = _profile(sandbox_client.clevertap_profiles(), "u-1001")
    assert profile["Phone"] == "+919876543210"
    assert profile["Gender"] == "F"
    # match_account (the default): the sandbox account holds this trait in both spellings and
    # the newer one is written, no third
    assert profile["industry_of_traits"] == "Retail"
    assert profile["accountTier"] == "gold"
    # Trimmed like CleverTap's example of Segment's destination (" Hello World" -> "Hello World"),
    # and the account's spellings in both directions: "home_store" -> "Home Store",
    # "Fav City" -> "fav_city"
    assert _profile(sandbox_client.clevertap_profiles(), "u-1008") == {
        "Name": "Ana Souza",
        "Email": "ana.souza@example.com",
        "industry_of_traits": "Hello World",
        "Loyalty Tier": "Gold",
        "Home Store": "Pune",
        "fav_city": "Mumbai",
        "Wallet Balance": 120.5,
        "nps_score": 9,
        "Preferred Pickup Slot": "evening",
    }

    assert sorted(r["rule"] for r in run.rejects if r["kind"] == "rejected_record") == [
        "invalid_email",
        "invalid_gender",
        "property_name_collision",  # u-1003 and u-1004 send two spellings of one trait
        "property_name_collision",
        "unsupported_message_type",
    ]
    assert run.summary["received"] == 29
    assert run.summary["delivered"] == 22
    assert run.summary["skipped_by_reason"] == {"integrations_opt_out": 2}
    assert run.summary["dropped_fields_by_rule"] == {"value_too_long": 1}
    assert run.summary["uploaded_events"] == 16
    assert run.summary["uploaded_profiles"] == 6
    assert run.states == [{"bookmarks": {"segment": 29}}]


def test_segment_names_match_what_segments_destination_creates(config, sandbox_client) -> None:
    config["stream_mappings"] = {"segment": {"preset": "segment"}}
    config["property_names"] = "segment"
    run = run_target(config, segment_messages())

    profile = _profile(sandbox_client.clevertap_profiles(), "u-1001")
    assert {"industry_of_traits", "plan_type", "first_name", "newsletter_opt_in"} <= set(profile)
    assert {"Name", "Email", "Phone", "Gender", "DOB", "Photo"} <= set(profile)
    assert "Industry Of Traits" not in profile
    checkout = next(
        e for e in sandbox_client.clevertap_uploaded_events() if e["evtName"] == "Checkout Started"
    )
    assert set(checkout["evtData"]) == {"cart_value", "item_count", "currency", "payment_method"}
    charged = next(
        e
        for e in sandbox_client.clevertap_uploaded_events()
        if e["evtData"].get("Charged ID") == "ord-50017"
    )
    assert {"Charged ID", "Amount", "Items"} <= set(charged["evtData"])

    collisions = [r for r in run.rejects if r["rule"] == "property_name_collision"]
    assert sorted(r["record"]["userId"] for r in collisions) == ["u-1003", "u-1004"]
    assert "'Industry Of Traits' and 'industry_of_traits'" in collisions[0]["reason"]
    assert run.summary["property_names"]["collisions"] == 2
    assert run.summary["property_names"]["renamed_sample"]["Industry Of Traits"] == (
        "industry_of_traits"
    )


def test_property_names_none_keeps_names_as_sent(config, sandbox_client) -> None:
    config["stream_mappings"] = {"segment": {"preset": "segment"}}
    config["property_names"] = "none"
    run_target(config, segment_messages())
    profile = _profile(sandbox_client.clevertap_profiles(), "u-1003")
    assert profile["Industry Of Traits"] == "Logistics"
    assert profile["industry_of_traits"] == "logistics"


USERS_SCHEMA = {"id": {"type": "string"}, "Age": {}, "Email": {}, "device": {}}


def test_records_only_clevertap_refuses_are_mapped_back_by_position(config, sandbox_client) -> None:
    # Rules the target leaves to CleverTap: objectId format (526), the sandbox's stricter Age
    # range and e-mail top-level domain; each refused record must come back as itself.
    rows = [{"id": f"u-{n}", "Age": 30} for n in range(10)]
    rows[1] = {"id": "u-1", "Age": 130}
    rows[4] = {"id": "u-4", "Email": "someone@example.c"}
    rows[8] = {"id": "u-8", "device": "not a valid id!"}
    config["stream_mappings"] = {
        "users": {"identity": "id"},
        "devices": {"object_id": "device", "exclude": ["id"]},
    }
    config["max_concurrency"] = 1  # one lane: the users go in one request, in input order
    messages = [schema("users", USERS_SCHEMA, ["id"])]
    messages += [record("users", r) for r in rows if "device" not in r]
    messages += [schema("devices", USERS_SCHEMA, ["id"]), record("devices", rows[8])]
    run = run_target(config, messages)

    refused = {r["record"]["id"]: (r["rule"], r["code"], r["field"]) for r in run.rejects}
    assert refused == {
        "u-1": ("invalid_age", 520, "Age"),
        "u-4": ("invalid_email", 515, "Email"),
        "u-8": ("invalid_object_id", 526, "objectId"),
    }
    stored = {p.get("identity") for p in sandbox_client.clevertap_profiles()}
    assert stored == {f"u-{n}" for n in (0, 2, 3, 5, 6, 7, 9)}
    log = sandbox_client.clevertap_upload_log()
    assert [(entry["status"], entry["processed"]) for entry in log] == [("partial", 7)]
    assert run.summary["delivered"] == 7
    assert run.summary["rejected_by_rule"] == {
        "invalid_age": 1,
        "invalid_email": 1,
        "invalid_object_id": 1,
    }


def test_a_request_clevertap_refuses_entirely_is_settled_record_by_record(
    config, sandbox_client
) -> None:
    config["stream_mappings"] = {"devices": {"object_id": "device"}}
    config["max_concurrency"] = 1
    devices = [{"device": f"bad id {n}!"} for n in range(3)]
    run = run_target(
        config,
        [schema("devices", {"device": {}}), *(record("devices", d) for d in devices)],
    )
    assert [entry["status"] for entry in sandbox_client.clevertap_upload_log()] == ["fail"]
    assert sorted(r["record"]["device"] for r in run.rejects) == [d["device"] for d in devices]
    assert {r["code"] for r in run.rejects} == {526}
    assert run.summary["delivered"] == 0


def test_local_rejections_cost_no_request(config, sandbox_client) -> None:
    config["stream_mappings"] = {"users": {"identity": "id"}}
    bad = [{"id": "u-1", "Email": "nope"}, {"id": "u-2", "Gender": "x"}, {"id": ""}]
    run = run_target(
        config,
        [schema("users", USERS_SCHEMA | {"Gender": {}}, ["id"])]
        + [record("users", r) for r in bad],
    )
    assert sandbox_client.clevertap_upload_log() == []
    assert len(run.rejects) == 3


@pytest.mark.parametrize("policy", ["continue", "fail"])
def test_on_rejected_policy(config, sandbox_client, policy) -> None:
    config["stream_mappings"] = {"users": {"identity": "id"}}
    config["on_rejected"] = policy
    messages = [
        schema("users", USERS_SCHEMA, ["id"]),
        record("users", {"id": "u-1", "Email": "nope"}),
        record("users", {"id": "u-2", "Email": "ok@example.com"}),
    ]
    if policy == "continue":
        run = run_target(config, messages)
        assert run.summary["delivered"] == 1
        return
    with pytest.raises(RuntimeError, match="on_rejected is 'fail'"):
        run_target(config, messages)
    assert sandbox_client.clevertap_profiles() == []


def test_a_date_time_that_does_not_parse_is_rejected_not_fatal(config, sandbox_client) -> None:
    config["stream_mappings"] = {"users": {"identity": "id"}}
    typed = USERS_SCHEMA | {"Joined": {"type": ["string", "null"], "format": "date-time"}}
    run = run_target(
        config,
        [
            schema("users", typed, ["id"]),
            record("users", {"id": "u-1", "Joined": "31/12/2023 25:00"}),
            record("users", {"id": "u-2", "Joined": "2024-05-01T12:00:00Z"}),
            state({"done": True}),
        ],
    )
    (rejected,) = run.rejects
    assert rejected["rule"] == "schema"
    assert "field 'Joined' is typed date-time" in rejected["reason"]
    assert rejected["record"]["id"] == "u-1"
    (profile,) = sandbox_client.clevertap_profiles()
    assert profile["profileData"]["Joined"] == {"$date": 1714564800}  # sent as $D_1714564800
    assert run.states == [{"done": True}]


@pytest.mark.parametrize(
    ("preset", "trim", "expected"),
    [
        ("generic", True, "Retail"),
        ("generic", False, "  Retail "),
        ("generic", None, "  Retail "),  # unset: only the segment preset trims
        ("segment", None, "Retail"),  # as Segment's destination delivers values
        ("segment", False, "  Retail "),  # explicit config wins
    ],
)
def test_trim_values_strips_text_values_per_setting_or_preset(
    config, sandbox_client, preset, trim, expected
) -> None:
    config["property_names"] = "none"
    if trim is not None:
        config["trim_values"] = trim
    if preset == "segment":
        config["stream_mappings"] = {"people": {"preset": "segment", "message_type": "identify"}}
        fields = {"user_id": "u-trim"}
    else:
        config["stream_mappings"] = {"people": {"kind": "profile", "identity": "id"}}
        fields = {"id": "u-trim"}
    run_target(
        config,
        [
            schema("people", {"id": {}, "user_id": {}, "Industry Of Traits": {}, "Seats": {}}),
            record("people", {**fields, "Industry Of Traits": "  Retail ", "Seats": 3}),
        ],
    )
    profile = _profile(sandbox_client.clevertap_profiles(), "u-trim")
    assert profile["Industry Of Traits"] == expected
    assert profile["Seats"] == 3
