"""SelectionPruner removes exactly what the SDK's own record walk removes."""

from __future__ import annotations

import copy
import random

from clevertap_segment_common.sdk_compat import pop_deselected_record_properties
from singer_sdk.singerlib import MetadataMapping
from tap_clevertap.schemas import event_schema
from tap_clevertap.selection import SelectionPruner


def _mask(deselected):
    schema = event_schema({"Amount": {"type": ["number", "null"]}})
    metadata = MetadataMapping.get_standard_metadata(
        schema=schema, key_properties=["event_id"], valid_replication_keys=["event_date"]
    )
    metadata.root.selected = True
    for breadcrumb in deselected:
        metadata[breadcrumb].selected = False
    return schema, metadata.resolve_selection()


def _record(rnd):
    return {
        "event_id": "x",
        "event_name": "E",
        "event_date": "2026-11-19",
        "profile": {
            "objectId": "o",
            "email": "e@x",
            "profileData": {f"p{i}": i for i in range(rnd.randint(0, 5))},
            "events": {f"E{i}": {"count": i} for i in range(rnd.randint(0, 5))},
        },
        "event_props": {"Amount": 1, "Other": {"nested": 1}},
        "session_props": {"session_source": "Direct"},
    }


DESELECTIONS = [
    [],
    [("properties", "profile")],
    [("properties", "session_props")],
    [("properties", "profile", "properties", "email")],
    [("properties", "profile", "properties", "profileData"), ("properties", "event_props")],
    [("properties", "event_props", "properties", "Amount")],
    [("properties", "profile"), ("properties", "profile", "properties", "email")],
]


def test_pruner_matches_the_sdk_walk():
    rnd = random.Random(7)
    for deselected in DESELECTIONS:
        schema, mask = _mask(deselected)
        pruner = SelectionPruner(mask)
        for _ in range(20):
            record = _record(rnd)
            expected = copy.deepcopy(record)
            pop_deselected_record_properties(expected, schema, mask)
            pruner.prune(record)
            assert record == expected, deselected


def test_nothing_deselected_means_nothing_walked():
    _schema, mask = _mask([])
    assert SelectionPruner(mask).paths == []
