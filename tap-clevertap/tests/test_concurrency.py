"""Never more than 3 export calls in flight across the whole tap, whatever the settings."""

from __future__ import annotations

from tap_clevertap_testkit import expected_days, run_tap, tap_config

MANY = ["App Launched", "Charged", "Search", "Product Viewed", "Added To Cart", "UTM Visited"]


def test_three_partitions_in_flight_and_never_more(sandbox_factory):
    sandbox = sandbox_factory(seed=12, latency_ms=15)
    config = tap_config(
        sandbox,
        event_names=MANY,
        profile_events=["App Launched", "Charged", "Search"],
        batch_size=230,
        start_date="2026-11-16",
    )
    run = run_tap(config)
    stats = sandbox.client.clevertap_stats()
    assert stats["max_concurrent"]["export"] == 3
    assert stats["concurrency_rejections"]["export"] == 0
    assert stats["http_429"] == 0
    assert stats["cursors"]["chain_overlaps"] == 0  # one request at a time per cursor chain
    # Output order stays deterministic: partitions in order, days ascending inside each.
    names = [r["event_name"] for r in run.records()]
    assert names == sorted(names, key=MANY.index)
    for name in MANY:
        days = [r["event_date"] for r in run.records() if r["event_name"] == name]
        assert days == sorted(days)
        expected = expected_days(sandbox.client.seed_summary(), name)
        assert len(days) == sum(n for d, n in expected.items() if d >= "2026-11-16")


def test_max_concurrency_one_means_one_call_at_a_time(sandbox_factory):
    sandbox = sandbox_factory(seed=12, latency_ms=10)
    config = tap_config(sandbox, event_names=MANY[:3], max_concurrency=1, start_date="2026-11-17")
    run_tap(config)
    assert sandbox.client.clevertap_stats()["max_concurrent"]["export"] == 1


def test_every_stream_together_stays_within_the_limit(sandbox_factory):
    sandbox = sandbox_factory(seed=12, latency_ms=10)
    config = tap_config(
        sandbox,
        event_names=MANY[:3],
        start_date="2026-11-16",
        campaigns_horizon_days=31,
        campaign_report_refresh_days=0,
    )
    run = run_tap(config, streams=None)
    stats = sandbox.client.clevertap_stats()
    assert stats["max_concurrent"]["export"] == 3
    assert stats["concurrency_rejections"]["export"] == 0
    assert stats["http_429"] == 0
    emitted = {m["stream"] for m in run.messages if m["type"] == "RECORD"}
    assert emitted == {
        "events",
        "profiles",
        "campaigns",
        "campaign_reports",
        "message_reports",
        "event_counts",
        "profile_counts",
        "trends",
        "event_schema",
        "user_property_schema",
        "property_name_audit",
    }


def test_days_of_one_event_are_fetched_concurrently_and_emitted_in_order(sandbox_factory):
    sandbox = sandbox_factory(seed=12, latency_ms=15)
    config = tap_config(
        sandbox, event_names=["Charged"], profile_events=[], start_date="2026-11-10"
    )
    run = run_tap(config)
    stats = sandbox.client.clevertap_stats()
    assert stats["max_concurrent"]["export"] == 3  # one event, three of its days at once
    assert stats["cursors"]["chain_overlaps"] == 0
    days = [r["event_date"] for r in run.records()]
    assert days == sorted(days)
    expected = expected_days(sandbox.client.seed_summary(), "Charged")
    assert len(days) == sum(n for d, n in expected.items() if d >= "2026-11-10")
    checkpoints = [
        s["bookmarks"]["events"]["partitions"][0].get("replication_key_value")
        for s in run.states
        if s.get("bookmarks", {}).get("events")
    ]
    assert [c for c in checkpoints if c] == sorted(c for c in checkpoints if c)
