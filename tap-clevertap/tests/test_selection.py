"""Deselecting properties through the catalog still removes them, nested ones included."""

from __future__ import annotations

from clevertap_segment_common.sdk_compat import set_catalog_stream_selected
from singer_sdk.singerlib import Catalog
from tap_clevertap.tap import TapCleverTap
from tap_clevertap_testkit import run_tap, tap_config


def _catalog(config, deselected):
    catalog = Catalog.from_dict(TapCleverTap(config=config).catalog_dict)
    for breadcrumb in deselected:
        set_catalog_stream_selected(catalog, "events", selected=False, breadcrumb=breadcrumb)
    set_catalog_stream_selected(catalog, "profiles", selected=False)
    return catalog.to_dict()


def test_deselected_objects_are_removed(sandbox, sandbox_client):
    config = tap_config(sandbox, event_names=["Charged"], start_date="2026-11-18")
    catalog = _catalog(config, [("properties", "profile"), ("properties", "session_props")])
    run = run_tap(config, catalog=catalog)
    records = run.records()
    assert records
    assert all("profile" not in r and "session_props" not in r for r in records)
    assert all("event_props" in r for r in records)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]
    assert "profile" not in schema["properties"]
    assert run.records("profiles") == []


def test_deselected_nested_property_is_removed(sandbox, sandbox_client):
    config = tap_config(sandbox, event_names=["Charged"], start_date="2026-11-18")
    breadcrumb = ("properties", "profile", "properties", "email")
    run = run_tap(config, catalog=_catalog(config, [breadcrumb]))
    records = run.records()
    assert records
    assert all("email" not in r["profile"] for r in records)
    assert all("objectId" in r["profile"] and "events" in r["profile"] for r in records)


def test_stream_maps_and_flattening_still_apply(sandbox, sandbox_client):
    config = tap_config(
        sandbox,
        start_date="2026-11-19",
        flattening_enabled=True,
        flattening_max_depth=1,
        stream_maps={
            "events": {"event_props": "__NULL__", "__filter__": "event_name == 'Charged'"}
        },
    )
    run = run_tap(config)
    records = run.records()
    assert records
    assert {r["event_name"] for r in records} == {"Charged"}
    assert all("event_props" not in r and "profile__email" in r for r in records)
