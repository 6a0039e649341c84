"""Seeded data: deterministic from the seed, realistic names, declared name collisions."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

FIRST_DAY, YESTERDAY = 20261106, 20261119
SLIM = "?app=false&events=false&profile=false"

# Which snake_case implementations map each group to one key (docs/segment-api.md §3.4 table).
EXPECTED_GROUPS = [
    ("profile", None, ["Industry Of Traits", "industry_of_traits"], "all"),
    ("profile", None, ["First Name", "first_name"], "all"),
    ("profile", None, ["userID", "user_id"], ["lodash", "go-snakecase"]),
    ("profile", None, ["Plan Type", "plan_type", "planType"], "all"),
    ("event", "Product Viewed", ["Product Name", "product_name"], "all"),
    ("event", "Search", ["Search Term", "searchTerm"], "all"),
    ("event", "Added To Cart", ["CTAButton", "cta_button"], ["lodash"]),
]
ALL = ["lodash", "to-snake-case-1.0", "go-snakecase"]


def _loose(name: str) -> str:
    """Equal for any two names that some snake_case could merge (ASCII names)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def test_same_seed_same_pages_other_seed_other_pages(
    clevertap: Any, summary: dict[str, Any], sandbox_factory: Any, caller_for: Any
) -> None:
    twin = sandbox_factory(seed=42)
    twin_client = caller_for(twin)
    for event in ("Charged", "App Launched"):
        mine = clevertap.export(event, FIRST_DAY, YESTERDAY, query=SLIM)
        theirs = twin_client.export(event, FIRST_DAY, YESTERDAY, query=SLIM)
        assert mine == theirs
    assert twin.client.seed_summary() == summary
    other = caller_for(sandbox_factory(seed=7))
    assert other.export("Charged", FIRST_DAY, YESTERDAY, query=SLIM) != clevertap.export(
        "Charged", FIRST_DAY, YESTERDAY, query=SLIM
    )


def test_default_volume_is_a_few_thousand_events(summary: dict[str, Any]) -> None:
    assert 2_000 <= summary["total_events"] <= 15_000
    assert summary["profiles"]["total"] == 500
    assert 0 < summary["profiles"]["anonymous"] < summary["profiles"]["identified"]
    assert summary["profiles"]["without_top_level_object_id"] > 0
    assert set(summary["not_exportable_events"]) >= {
        "Notification Viewed",
        "Notification Clicked",
        "Push Impressions",
    }


def test_name_styles_exist(clevertap: Any) -> None:
    users = {
        p["name"] for p in clevertap.get("/getSchema?type=userProperties").json()["userProperties"]
    }
    events = {e["name"]: e for e in clevertap.get("/getSchema?type=events").json()["events"]}
    props = {p["name"] for e in events.values() for p in e["properties"]}
    assert {"Industry Of Traits", "userID", "user_id", "planType"} <= users
    assert {"Product Name", "productId", "cart_value", "CT App Version", "CT Source"} <= props
    assert {
        "Charged ID",
        "Amount",
        "Items",
        "CT Session Id",
        "CT SDK Version",
        "CT OS Version",
    } <= props
    assert {
        "App Launched",
        "Product Viewed",
        "Added To Cart",
        "Charged",
        "Search",
        "UTM Visited",
    } <= set(events)


def test_colliding_groups_are_declared_exactly(summary: dict[str, Any]) -> None:
    declared = [
        (g["scope"], g["event_name"], g["names"], g["collides_under"])
        for g in summary["colliding_groups"]
    ]
    expected = [(s, e, n, ALL if u == "all" else u) for s, e, n, u in EXPECTED_GROUPS]
    assert declared == expected


def test_no_undeclared_collisions(clevertap: Any, summary: dict[str, Any]) -> None:
    users = [
        p["name"] for p in clevertap.get("/getSchema?type=userProperties").json()["userProperties"]
    ]
    events = clevertap.get("/getSchema?type=events").json()["events"]
    scopes = {
        "profile": users,
        "events": sorted({p["name"] for e in events for p in e["properties"]}),
    }
    declared = {frozenset(g["names"]) for g in summary["colliding_groups"]}
    for names in scopes.values():
        clusters: defaultdict[str, set[str]] = defaultdict(set)
        for name in names:
            clusters[_loose(name)].add(name)
        found = {frozenset(c) for c in clusters.values() if len(c) > 1}
        assert found <= declared


def test_colliding_names_occur_in_the_data(clevertap: Any) -> None:
    records = clevertap.export("Product Viewed", FIRST_DAY, YESTERDAY, query="?events=false")
    both = [r for r in records if {"Product Name", "product_name"} <= set(r["event_props"])]
    assert both, "some events carry both spellings"
    profiles = [r["profile"]["profileData"] for r in records]
    assert any({"Industry Of Traits", "industry_of_traits"} <= set(p) for p in profiles)
    assert any({"Plan Type", "plan_type", "planType"} <= set(p) for p in profiles)
