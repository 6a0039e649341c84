"""The export cursor contract exactly as captured live (docs/clevertap-api.md §2.1 [O])."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from clevertap_segment_sandbox import SandboxProcess

FIRST_DAY, YESTERDAY = 20261106, 20261119
CleverTap = Any


def test_open_page_and_terminal_envelopes(clevertap: CleverTap) -> None:
    cursor = clevertap.open("App Launched", YESTERDAY, YESTERDAY)
    pages = clevertap.walk(cursor)
    *data_pages, terminal = pages
    assert data_pages, "a busy day must have at least one data page"
    for page in data_pages:
        assert set(page) == {"next_cursor", "records", "status"}
        assert page["status"] == "success"
        assert isinstance(page["records"], list)
    assert terminal == {"status": "success"}


def test_chain_returns_exactly_the_seeded_records(
    clevertap: CleverTap, summary: dict[str, Any]
) -> None:
    records = clevertap.export("Product Viewed", FIRST_DAY, YESTERDAY)
    assert len(records) == summary["events"]["Product Viewed"]["total"]
    assert len(records) > 100


def test_the_page_that_drains_the_window_still_carries_next_cursor(clevertap: CleverTap) -> None:
    pages = clevertap.walk(clevertap.open("Charged", YESTERDAY, YESTERDAY))
    assert len(pages) >= 2
    assert pages[-2]["records"], "last data page has records"
    assert "next_cursor" in pages[-2]
    assert "records" not in pages[-1]


def test_batch_size_is_a_multiple_of_23_rounded_down(clevertap: CleverTap) -> None:
    # App Launched has ~90 records per day: every bucket holds at least 2, so the first
    # page is full: 50 -> 46 records (2 from each of the 23 buckets).
    pages = clevertap.walk(
        clevertap.open("App Launched", YESTERDAY, YESTERDAY, query="?batch_size=50")
    )
    sizes = [len(page.get("records", [])) for page in pages]
    assert sizes[0] == 46
    assert all(size <= 46 for size in sizes)


def test_pages_shrink_as_buckets_run_dry(clevertap: CleverTap, summary: dict[str, Any]) -> None:
    pages = clevertap.walk(
        clevertap.open("App Launched", YESTERDAY, YESTERDAY, query="?batch_size=46")
    )
    sizes = [len(page["records"]) for page in pages[:-1]]
    assert sizes[0] == 46
    assert 0 < sizes[-1] < 46, "the last data page is a partial one"
    assert sum(sizes) == summary["events"]["App Launched"]["days"][str(YESTERDAY)]


def test_empty_page_with_next_cursor_for_a_quiet_day(
    clevertap: CleverTap, summary: dict[str, Any]
) -> None:
    # Sparse events have days without any record. Inside a window with data after it, such
    # a day yields records == [] AND a next_cursor: stopping on an empty page loses data.
    for name in ("App Uninstalled", "App Version Changed", "UTM Visited"):
        days = summary["events"][name]["days"]
        ordered = sorted(days)
        quiet = [d for i, d in enumerate(ordered[:-1]) if days[d] == 0 and days[ordered[i + 1]]]
        if quiet:
            break
    else:
        pytest.fail("the seeded history has no quiet day followed by data")
    day = int(quiet[0])
    pages = clevertap.walk(clevertap.open(name, day, YESTERDAY))
    assert pages[0] == {"next_cursor": pages[0]["next_cursor"], "records": [], "status": "success"}
    total = sum(len(page.get("records", [])) for page in pages)
    assert total == sum(count for d, count in days.items() if int(d) >= day)


def test_window_outside_the_history_ends_at_once(clevertap: CleverTap) -> None:
    pages = clevertap.walk(clevertap.open("App Launched", 20250101, 20250131))
    assert pages == [{"status": "success"}]


def test_replaying_a_cursor_returns_the_same_page(clevertap: CleverTap) -> None:
    cursor = clevertap.open("Search", FIRST_DAY, YESTERDAY)
    first = clevertap.page(cursor)
    again = clevertap.page(cursor)
    assert first["records"] == again["records"]


def test_post_with_cursor_and_empty_body_pages_too(clevertap: CleverTap) -> None:
    cursor = clevertap.open("Search", YESTERDAY, YESTERDAY)
    by_get = clevertap.page(cursor)
    by_post = clevertap.session.post(f"{clevertap.base}/1/events.json?cursor={cursor}", data=b"")
    assert by_post.status_code == 200
    assert by_post.json()["records"] == by_get["records"]


def test_profiles_export_follows_the_same_contract(
    clevertap: CleverTap, sandbox_client: Any
) -> None:
    cursor = clevertap.open("Charged", FIRST_DAY, YESTERDAY, stream="profiles")
    pages = clevertap.walk(cursor, "profiles")
    assert pages[-1] == {"status": "success"}
    records = [r for page in pages for r in page.get("records", [])]
    assert len(records) == sandbox_client.seed_profile_count("Charged", FIRST_DAY, YESTERDAY)


def test_profile_object_ids_are_those_of_the_profiles_exports(
    clevertap: CleverTap, sandbox_client: Any
) -> None:
    exported: set[str] = set()
    for event in ("Search", "Signed Up"):
        for record in clevertap.export(event, 20261110, 20261114, stream="profiles"):
            exported.add(record.get("objectId") or record["platformInfo"][0]["objectId"])
    truth = sandbox_client.seed_profile_object_ids(["Search", "Signed Up"], 20261110, 20261114)
    assert truth == exported
    search = sandbox_client.seed_profile_object_ids(["Search"], 20261110, 20261114)
    assert search < truth, "the union is wider than one event"
    assert len(search) == sandbox_client.seed_profile_count("Search", 20261110, 20261114)
    with pytest.raises(requests.HTTPError):
        sandbox_client.seed_profile_object_ids(["No Such Event"], 20261110, 20261114)


def test_big_partition_pages_of_4991(sandbox_factory: Any, caller_for: Any) -> None:
    # The live capture: batch_size=5000 gave pages of exactly 4991 (= 23 x 217), then a few
    # shrinking pages, then the bare terminal page. Slim records keep the test quick.
    sandbox: SandboxProcess = sandbox_factory(days=1, events_per_day=4000, profiles=300)
    client = caller_for(sandbox)
    expected = sandbox.client.seed_summary(event_profiles=False)["events"]["App Launched"]
    for query in ("?batch_size=5000", "?batch_size=50000"):
        pages = client.walk(
            client.open(
                "App Launched",
                YESTERDAY,
                YESTERDAY,
                query=query + "&app=false&events=false&profile=false",
            )
        )
        sizes = [len(page["records"]) for page in pages[:-1]]
        assert sizes[0] == 4991
        assert all(size <= 4991 for size in sizes)
        assert sizes[-1] < 4991
        assert sum(sizes) == expected["total"]
        assert pages[-1] == {"status": "success"}
