"""Counts, trends, top, real-time, campaigns, reports, profile by id, schema (§3)."""

from __future__ import annotations

from typing import Any

import pytest

FIRST_DAY, YESTERDAY = 20261106, 20261119


def _poll(clevertap: Any, path: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    first = clevertap.post(path, body)
    assert first.status_code == 200
    answers = [first.json()]
    assert answers[0]["status"] == "partial"
    req_id = answers[0]["req_id"]
    for _ in range(10):
        answer = clevertap.get(f"{path}?req_id={req_id}").json()
        answers.append(answer)
        if answer["status"] != "partial":
            return answers, answer
    raise AssertionError("never finished")


def test_event_count_polls_then_matches_the_seed(clevertap: Any, summary: dict[str, Any]) -> None:
    body = {"event_name": "Search", "from": FIRST_DAY, "to": YESTERDAY}
    answers, final = _poll(clevertap, "/1/counts/events.json", body)
    assert 3 <= len(answers) <= 4, "partial first, then once or twice while polling"
    assert all(a == {"status": "partial", "req_id": answers[0]["req_id"]} for a in answers[:-1])
    assert final == {"status": "success", "count": summary["events"]["Search"]["total"]}


def test_profile_count_matches_a_profiles_export(clevertap: Any, sandbox_client: Any) -> None:
    body = {"event_name": "Charged", "from": 20261110, "to": YESTERDAY}
    _, final = _poll(clevertap, "/1/counts/profiles.json", body)
    assert final["count"] == sandbox_client.seed_profile_count("Charged", 20261110, YESTERDAY)
    assert final["count"] > 0


def test_count_with_filters_counts_matching_events(clevertap: Any) -> None:
    records = clevertap.export("Charged", FIRST_DAY, YESTERDAY, query="?events=false&profile=false")
    expected = sum(1 for r in records if r["event_props"]["Amount"] > 500)
    body = {
        "event_name": "Charged",
        "from": FIRST_DAY,
        "to": YESTERDAY,
        "event_properties": [{"name": "Amount", "operator": "greater_than", "value": 500}],
    }
    _, final = _poll(clevertap, "/1/counts/events.json", body)
    assert final["count"] == expected


def test_unknown_req_id_and_bad_counts(clevertap: Any) -> None:
    assert clevertap.get("/1/counts/events.json?req_id=42").status_code == 400
    unknown = clevertap.post("/1/counts/events.json", {"event_name": "Nope", "from": 1, "to": 2})
    assert unknown.status_code == 400


def test_trends_daily_weekly_monthly(clevertap: Any, summary: dict[str, Any]) -> None:
    body = {
        "event_name": "Search",
        "from": FIRST_DAY,
        "to": YESTERDAY,
        "groups": {
            "d": {"trend_type": "daily"},
            "w": {"trend_type": "weekly"},
            "m": {"trend_type": "monthly"},
        },
    }
    _, final = _poll(clevertap, "/1/counts/trends.json", body)
    days = summary["events"]["Search"]["days"]
    assert final["d"] == days
    assert sum(final["w"].values()) == sum(days.values())
    assert set(final["w"]) == {"202645", "202646", "202647"}
    assert final["m"] == {"202611": sum(days.values())}
    unique = _poll(clevertap, "/1/counts/trends.json", {**body, "unique": True})[1]
    assert all(unique["d"][day] <= days[day] for day in days)
    bad = clevertap.post(
        "/1/counts/trends.json", {**body, "groups": {"x": {"trend_type": "hourly"}}}
    )
    assert bad.status_code == 400


def test_top_counts(clevertap: Any) -> None:
    records = clevertap.export("Charged", FIRST_DAY, YESTERDAY, query="?events=false&profile=false")
    modes: dict[str, int] = {}
    for record in records:
        mode = record["event_props"]["Payment Mode"]
        modes[mode] = modes.get(mode, 0) + 1
    body = {
        "event_name": "Charged",
        "from": FIRST_DAY,
        "to": YESTERDAY,
        "groups": {
            "modes": {"property_type": "event_properties", "name": "Payment Mode"},
            "top1": {"property_type": "event_properties", "name": "Payment Mode", "top_n": 1},
            "sources": {"property_type": "session_properties", "name": "session_source"},
        },
    }
    _, final = _poll(clevertap, "/1/counts/top.json", body)
    assert final["modes"] == dict(sorted(modes.items(), key=lambda kv: (-kv[1], kv[0])))
    assert list(final["top1"].values()) == [max(modes.values())]
    assert sum(final["sources"].values()) == len(records)


def test_real_time_counts(clevertap: Any) -> None:
    plain = clevertap.post("/1/now.json", {}).json()
    assert plain["status"] == "success"
    assert plain["users"] > 0
    split = clevertap.post("/1/now.json", {"user_type": True}).json()
    assert set(split["user_type"]) == {"new", "returning"}
    assert sum(split["user_type"].values()) == split["users"]


def test_campaign_list_by_scheduled_start(clevertap: Any, summary: dict[str, Any]) -> None:
    campaigns = summary["campaigns"]
    assert {c["report_form"] for c in campaigns} == {
        "result",
        "no_result_yet_500",
        "conflict_409",
        "not_completed_200",
    }
    assert any(c["scheduled_on"] > 20261120 for c in campaigns), "some are in the future"
    window = {"from": 20261101, "to": 20261130}
    listed = clevertap.post("/1/targets/list.json", window).json()
    assert listed["status"] == "success"
    expected = [c for c in campaigns if 20261101 <= c["scheduled_on"] <= 20261130]
    assert [t["id"] for t in listed["targets"]] == [c["id"] for c in expected]
    assert expected


def test_campaign_windows_over_31_days_are_refused(clevertap: Any) -> None:
    ok = clevertap.post("/1/targets/list.json", {"from": 20261001, "to": 20261031})
    assert ok.status_code == 200
    too_long = clevertap.post("/1/targets/list.json", {"from": 20261001, "to": 20261101})
    assert too_long.status_code == 400
    assert too_long.json()["status"] == "fail"


def test_campaign_reports_in_all_observed_forms(clevertap: Any, summary: dict[str, Any]) -> None:
    forms = {c["report_form"]: c["id"] for c in summary["campaigns"]}
    done = clevertap.post("/1/targets/result.json", {"id": forms["result"]})
    assert done.status_code == 200
    assert done.json()["status"] == "success"
    assert done.json()["result"]["sent"] > 0
    conflict = clevertap.post("/1/targets/result.json", {"id": forms["conflict_409"]})
    assert conflict.status_code == 409
    no_result = clevertap.post("/1/targets/result.json", {"id": forms["no_result_yet_500"]})
    assert no_result.status_code == 500
    assert no_result.json() == {
        "status": "fail",
        "error": "This target has no result as of yet",
        "code": 500,
    }
    pending = clevertap.post("/1/targets/result.json", {"id": forms["not_completed_200"]})
    assert pending.status_code == 200
    assert pending.json() == {
        "status": "success",
        "error": "This target hasn't been completed",
        "code": 200,
    }
    assert clevertap.post("/1/targets/result.json", {"id": 1}).status_code == 400


def test_message_reports(clevertap: Any) -> None:
    window = {"from": FIRST_DAY, "to": YESTERDAY}
    aggregate = clevertap.post("/1/message/report.json", window).json()
    assert aggregate["status"] == "success"
    messages = aggregate["messages"]
    assert messages
    assert all(isinstance(m["message id"], int) for m in messages)
    daily = clevertap.post("/1/message/report.json", {**window, "daily": True}).json()["messages"]
    assert len(daily) >= len(messages)
    for message in messages:
        rows = [row for row in daily if row["message id"] == message["message id"]]
        assert rows
        assert all(FIRST_DAY <= row["date"] <= YESTERDAY for row in rows)
    push = clevertap.post("/1/message/report.json", {**window, "channel": "push"}).json()
    assert push["messages"]
    assert all(m["channel"] == "push" for m in push["messages"])


def test_profile_by_identity_email_object_id(clevertap: Any) -> None:
    record = clevertap.export("Search", YESTERDAY, YESTERDAY)[0]["profile"]
    identified = next(
        r["profile"]
        for r in clevertap.export("Search", FIRST_DAY, YESTERDAY)
        if r["profile"]["identity"]
    )
    for query in (
        f"identity={identified['identity']}",
        f"email={identified['email']}",
        f"objectId={record['objectId']}",
    ):
        response = clevertap.get(f"/1/profile.json?{query}")
        assert response.status_code == 200, query
        assert response.json()["status"] == "success"
        assert "platformInfo" in response.json()["record"]
    found = clevertap.get(f"/1/profile.json?identity={identified['identity']}").json()["record"]
    assert found["email"] == identified["email"]
    assert found["profileData"] == identified["profileData"]


def test_profile_by_id_errors(clevertap: Any) -> None:
    assert clevertap.get("/1/profile.json?identity=nobody-here").status_code == 404
    assert clevertap.get("/1/profile.json").status_code == 400
    assert clevertap.get("/1/profile.json?identity=a&email=b@c.de").status_code == 400


def test_uploaded_profiles_are_readable_by_id(clevertap: Any) -> None:
    clevertap.upload(
        [{"type": "profile", "identity": "fresh-1", "profileData": {"Email": "f@example.com"}}]
    )
    record = clevertap.get("/1/profile.json?identity=fresh-1").json()["record"]
    assert record["identity"] == "fresh-1"
    assert record["email"] == "f@example.com"


@pytest.mark.parametrize("kind", ["events", "userProperties"])
def test_schema_wraps_arrays(clevertap: Any, kind: str) -> None:
    body = clevertap.get(f"/getSchema?type={kind}").json()
    assert body["status"] == "success"
    assert isinstance(body[kind], list)
    assert body[kind]


def test_schema_matches_the_data(clevertap: Any, summary: dict[str, Any]) -> None:
    events = {e["name"]: e for e in clevertap.get("/getSchema?type=events").json()["events"]}
    assert set(events) == set(summary["event_names"])
    assert len(events) >= 100
    for name in ("Charged", "Search", "App Launched"):
        declared = {p["name"]: p["type"] for p in events[name]["properties"]}
        for record in clevertap.export(name, YESTERDAY, YESTERDAY, query="?events=false"):
            assert set(record["event_props"]) <= set(declared)
        assert declared.get("Items", "object_array") == "object_array"
    users = {
        p["name"]: p["type"]
        for p in clevertap.get("/getSchema?type=userProperties").json()["userProperties"]
    }
    for record in clevertap.export("Search", YESTERDAY, YESTERDAY, query="?events=false"):
        assert set(record["profile"]["profileData"]) <= set(users)
    assert users["Interests"] == "string_array"
    assert clevertap.get("/getSchema?type=nonsense").status_code == 400


def test_schema_learns_uploaded_names(clevertap: Any) -> None:
    clevertap.upload(
        [
            {"type": "event", "identity": "u", "evtName": "Brand New", "evtData": {"x": 1}},
            {"type": "profile", "identity": "u", "profileData": {"Fresh Key": True}},
        ]
    )
    events = {e["name"]: e for e in clevertap.get("/getSchema?type=events").json()["events"]}
    assert events["Brand New"]["properties"] == [{"name": "x", "type": "integer"}]
    users = clevertap.get("/getSchema?type=userProperties").json()["userProperties"]
    assert {"name": "Fresh Key", "type": "boolean"} in users


def test_schema_lists_uploaded_spellings_per_event_in_history_order(clevertap: Any) -> None:
    """Seeded names first, then uploaded ones as spelled, in the order first received."""
    clevertap.upload(
        [
            {"type": "event", "identity": "u", "evtName": "Search", "evtData": {"plan_type": 1}},
            {"type": "event", "identity": "u", "evtName": "Search", "evtData": {"Plan Type": 2}},
            {"type": "event", "identity": "u", "evtName": "Fresh", "evtData": {"b": 1, "A b": 2}},
            {"type": "profile", "identity": "u", "profileData": {"customer_tier": "x"}},
            {"type": "profile", "identity": "u", "profileData": {"Customer Tier": "y"}},
        ]
    )
    events = {e["name"]: e for e in clevertap.get("/getSchema?type=events").json()["events"]}
    search = [p["name"] for p in events["Search"]["properties"]]
    assert search[-2:] == ["plan_type", "Plan Type"]
    assert search[:-2] == [
        *("CT App Version", "CT Source", "CT Session Id", "CT SDK Version", "CT OS Version"),
        *("Search Term", "searchTerm", "results_count", "Filters Applied"),
    ]
    assert [p["name"] for p in events["Fresh"]["properties"]] == ["b", "A b"]
    users = [
        p["name"] for p in clevertap.get("/getSchema?type=userProperties").json()["userProperties"]
    ]
    assert users[-2:] == ["customer_tier", "Customer Tier"]
    assert users[0] == "Industry Of Traits"


def test_campaigns_complete_as_the_clock_moves(clevertap: Any, sandbox_client: Any) -> None:
    before = {c["id"]: c for c in sandbox_client.seed_summary()["campaigns"]}
    running = [c for c in before.values() if c["status"] == "running"]
    assert running, "some campaign is running on the start-up day"
    pending = clevertap.post("/1/targets/result.json", {"id": running[0]["id"]})
    assert pending.status_code == 500
    assert "no result as of yet" in pending.json()["error"]

    sandbox_client.set_today("2026-12-31")
    after = {c["id"]: c for c in sandbox_client.seed_summary()["campaigns"]}
    for campaign_id, campaign in before.items():
        if campaign["status"] in ("running", "scheduled") and campaign["scheduled_on"] < 20261225:
            assert after[campaign_id]["status"] == "completed"
        if campaign["status"] in ("completed", "stopped"):
            assert after[campaign_id]["status"] == campaign["status"]
    done = clevertap.post("/1/targets/result.json", {"id": running[0]["id"]})
    assert done.status_code == 200
    assert done.json()["result"]["sent"] > 0
    listed = clevertap.post("/1/targets/list.json", {"from": 20261201, "to": 20261231}).json()
    assert all(t["status"] == after[t["id"]]["status"] for t in listed["targets"])
