"""property_name_audit: the account's colliding property names, per strategy and namespace."""

from __future__ import annotations

import pytest
from tap_clevertap.property_audit import NameInventory, audit_rows
from tap_clevertap_testkit import run_tap, tap_config

#: The sandbox names strategies by origin; the shared library by what they are for.
SANDBOX_STRATEGIES = {
    "lodash": "segment",
    "to-snake-case-1.0": "to-snake-case",
    "go-snakecase": "go-snakecase",
}
ACTIVE = [
    "App Launched",
    "Product Viewed",
    "Added To Cart",
    "Charged",
    "Search",
    "Signed Up",
]


def _groups(rows, strategy):
    """{(scope, names)} that the audit reports as colliding under ``strategy``."""
    column = strategy.replace("-", "_") + "_collides_with"
    return {(row["scope"], frozenset([row["name"], *row[column]])) for row in rows if row[column]}


def _expected(summary, strategy):
    return {
        (group["scope"], frozenset(group["names"]))
        for group in summary["colliding_groups"]
        if strategy in {SANDBOX_STRATEGIES[s] for s in group["collides_under"]}
    }


@pytest.mark.parametrize(
    "streams",
    [
        ("events", "profiles", "property_name_audit"),  # schema names + keys of the records
        ("property_name_audit",),  # schema names only
    ],
)
def test_the_audit_finds_exactly_the_seeded_collisions(sandbox, sandbox_client, streams):
    summary = sandbox_client.seed_summary()
    config = tap_config(sandbox, event_names=ACTIVE, start_date="2026-11-18")
    run = run_tap(config, streams=streams)
    rows = run.records("property_name_audit")
    for strategy in ("segment", "to-snake-case", "go-snakecase"):
        assert _groups(rows, strategy) == _expected(summary, strategy), strategy
    # match_account's rule (target-clevertap's) calls exactly the segment collisions split
    split = {
        (r["scope"], frozenset(r["match_account_spellings"]))
        for r in rows
        if r["match_account_split"]
    }
    assert split == _expected(summary, "segment")
    by_key = {(r["scope"], r["name"]): r for r in rows}
    for group in summary["colliding_groups"]:
        for name in group["names"]:
            row = by_key[group["scope"], name]
            if group["event_name"]:
                assert group["event_name"] in row["event_names"]
    # Every profile property of the schema is audited, and every event property.
    profile_names = {name for scope, name in by_key if scope == "profile"}
    assert len(profile_names) == 46
    exported = {r["name"] for r in rows if "export" in r["sources"]}
    if "events" in streams:
        assert {"Product Name", "product_name", "First Name", "planType"} <= exported
    else:
        assert exported == set()


def test_the_audit_runs_after_the_streams_it_audits(sandbox, sandbox_client):
    config = tap_config(sandbox, event_names=["Search"], start_date="2026-11-19")
    run = run_tap(config, streams=None)
    streams = [m["stream"] for m in run.messages if m["type"] == "SCHEMA"]
    assert streams.index("property_name_audit") > max(
        i for i, s in enumerate(streams) if s in {"events", "profiles"}
    )
    rows = {(r["scope"], r["name"]): r for r in run.records("property_name_audit")}
    assert rows["event", "Search Term"]["sources"] == ["export", "schema"]


def test_keys_existence_reserved_names_and_namespaces():
    inventory = NameInventory()
    inventory.saw_schema(
        {"events": [{"name": "A", "properties": [{"name": "Product Name"}]}]},
        {"userProperties": [{"name": n} for n in ("First Name", "first_name", "Email", "email")]},
    )
    inventory.schema_profile.append("userID")
    inventory.schema_events["B"] = ["product_name", "HTTPServer"]
    inventory.saw_event_record("B", {"httpserver": 1}, {"Lead Space": "x"})
    rows = {(r["scope"], r["name"]): r for r in audit_rows(inventory)}

    first = rows["profile", "First Name"]
    assert (first["segment_key"], first["segment_key_exists"]) == ("first_name", True)
    assert first["segment_collides_with"] == ["first_name"]
    # CleverTap's reserved keys keep their spelling: "Email" never becomes "email".
    assert rows["profile", "Email"]["reserved"] is True
    assert rows["profile", "Email"]["segment_key"] == "Email"
    assert rows["profile", "Email"]["segment_collides_with"] == []
    # to-snake-case writes "userID" as a key the account does not have yet.
    user = rows["profile", "userID"]
    assert (user["to_snake_case_key"], user["to_snake_case_key_exists"]) == ("user_i_d", False)
    # Names of different events never collide: CleverTap keeps event properties per event.
    assert rows["event", "Product Name"]["segment_collides_with"] == []
    assert rows["event", "Product Name"]["event_names"] == ["A"]
    # go-snakecase glues acronyms: "HTTPServer" meets the exported "httpserver" in event B.
    assert rows["event", "HTTPServer"]["go_snakecase_collides_with"] == ["httpserver"]
    assert rows["event", "HTTPServer"]["segment_collides_with"] == []
    assert rows["event", "httpserver"]["sources"] == ["export"]
    assert rows["profile", "Lead Space"]["sources"] == ["export"]
    assert rows["profile", "Lead Space"]["event_names"] is None


def test_match_account_columns_use_target_clevertaps_rule_in_history_order():
    inventory = NameInventory()
    inventory.saw_schema(
        {
            "events": [
                {"name": "A", "properties": [{"name": "plan_type"}, {"name": "Plan Type"}]},
                {"name": "B", "properties": [{"name": "Plan Type"}, {"name": "Customer Type"}]},
            ]
        },
        {"userProperties": [{"name": "Plan Type"}, {"name": "customer_type"}]},
    )
    inventory.saw_event_record("B", {"customer_type": 1}, {"planType": "x"})
    rows = {(r["scope"], r["name"]): r for r in audit_rows(inventory)}
    plan = rows["event", "Plan Type"]
    assert (plan["match_account_split"], plan["match_account_spellings"]) == (
        True,  # split in event A (listed plan_type first); event B alone would not be
        ["plan_type", "Plan Type"],
    )
    assert rows["profile", "planType"]["match_account_spellings"] == ["Plan Type", "planType"]
    # a reserved name is its own key: "Customer Type" and "customer_type" are not one property
    customer = rows["event", "Customer Type"]
    assert (customer["match_account_split"], customer["match_account_spellings"]) == (
        False,
        ["Customer Type"],
    )
