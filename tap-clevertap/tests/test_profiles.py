"""The profiles stream: one record per profile per run, incremental on the sweep day."""

from __future__ import annotations

from tap_clevertap_testkit import FIRST_DAY, LAST_DAY, run_tap, tap_config


def test_one_record_per_profile_with_object_id_fallback(sandbox, sandbox_client):
    summary = sandbox_client.seed_summary()
    run = run_tap(tap_config(sandbox, event_names=["Charged"], profile_events=["App Launched"]))
    profiles = run.records("profiles")
    assert len(profiles) == summary["profiles"]["by_event"]["App Launched"]
    ids = [p["objectId"] for p in profiles]
    assert all(ids)
    assert len(set(ids)) == len(ids)
    assert set(ids) == sandbox_client.seed_profile_object_ids(["App Launched"], FIRST_DAY, LAST_DAY)
    fallback = [p for p in profiles if p["objectId"] == p["platformInfo"][0]["objectId"]]
    assert fallback
    for profile in profiles:
        assert set(profile) >= {"identity", "email", "name", "phone", "profileData", "events"}
        assert profile["sweep_date"] == LAST_DAY.isoformat()


def test_several_events_and_windows_are_deduplicated(sandbox, sandbox_client):
    summary = sandbox_client.seed_summary()
    config = tap_config(
        sandbox,
        event_names=["Charged"],
        profile_events=["Charged", "Search", "Signed Up"],
        profile_window_days=5,
        batch_size=46,
    )
    run = run_tap(config)
    ids = [p["objectId"] for p in run.records("profiles")]
    assert len(set(ids)) == len(ids)
    events = ["Charged", "Search", "Signed Up"]
    assert set(ids) == sandbox_client.seed_profile_object_ids(events, FIRST_DAY, LAST_DAY)
    by_event = summary["profiles"]["by_event"]
    assert max(by_event["Charged"], by_event["Search"]) <= len(ids) <= summary["profiles"]["total"]
    # Each profile carries the last day of the first 5-day window it appears in.
    windows = [
        ("20261106", "20261110", "2026-11-10"),
        ("20261111", "20261115", "2026-11-15"),
        ("20261116", "20261119", "2026-11-19"),
    ]
    expected_sweep: dict[str, str] = {}
    for first, last, sweep_date in windows:
        for object_id in sandbox_client.seed_profile_object_ids(events, first, last):
            expected_sweep.setdefault(object_id, sweep_date)
    assert {p["objectId"]: p["sweep_date"] for p in run.records("profiles")} == expected_sweep
    states = [s["bookmarks"].get("profiles", {}).get("replication_key_value") for s in run.states]
    assert {"2026-11-10", "2026-11-15", "2026-11-19"} <= set(states)


def test_profiles_sweep_only_new_days_on_the_next_run(sandbox, sandbox_client):
    config = tap_config(sandbox, event_names=["Charged"])
    first = run_tap(config)
    before = sandbox_client.clevertap_stats()["requests"]["POST /1/profiles.json"]["200"]
    second = run_tap(config, state=first.state)
    after = sandbox_client.clevertap_stats()["requests"]["POST /1/profiles.json"]["200"]
    assert after == before
    assert second.records("profiles") == []
