"""campaigns (31-day windows, deduplicated) and campaign_reports (not-completed ones retried)."""

from __future__ import annotations

import datetime as dt
import itertools

from routed_api import routed_config
from tap_clevertap_testkit import TODAY, run_tap, tap_config

CAMPAIGNS = ("campaigns", "campaign_reports")
NOT_COMPLETED_FORMS = {"conflict_409", "no_result_yet_500", "not_completed_200"}


def _day(value: int) -> dt.date:
    return dt.date(value // 10000, value // 100 % 100, value % 100)


def _seeded(summary, first: dt.date, last: dt.date):
    return [c for c in summary["campaigns"] if first <= _day(c["scheduled_on"]) <= last]


def _posts(client, path):
    """Requests to ``POST path``, whatever their HTTP status."""
    return sum(client.clevertap_stats()["requests"].get(f"POST {path}", {}).values())


def test_campaigns_are_swept_in_windows_of_31_days(sandbox, sandbox_client):
    # The sandbox answers HTTP 400 to a window longer than 31 days, so a wider one fails the run.
    config = tap_config(sandbox, start_date="2026-10-15", campaigns_horizon_days=60)
    run = run_tap(config, streams=["campaigns"])
    last = TODAY + dt.timedelta(days=60)  # 2027-01-19: 97 days from 2026-10-15
    expected = _seeded(sandbox_client.seed_summary(), dt.date(2026, 10, 15), last)
    records = run.records("campaigns")
    assert [r["id"] for r in records] == [c["id"] for c in expected]
    assert {r["id"]: r["status"] for r in records} == {c["id"]: c["status"] for c in expected}
    assert all(r["scheduled_date"] == _day(r["scheduled_on"]).isoformat() for r in records)
    assert _posts(sandbox_client, "/1/targets/list.json") == 4  # ceil(97 / 31)
    # Full refresh: the next run lists every window again (statuses change) and keeps no bookmark.
    assert run.state["bookmarks"].get("campaigns", {}) == {}
    second = run_tap(config, state=run.state, streams=["campaigns"])
    assert second.records("campaigns") == records
    assert _posts(sandbox_client, "/1/targets/list.json") == 8


def test_windows_cover_the_range_without_gaps(routed_api):
    api = routed_api({"POST /1/targets/list.json": lambda q, b: (200, {"status": "success"})})
    run_tap(routed_config(api, campaigns_horizon_days=40), streams=["campaigns"])
    bodies = [body for _, body in api.calls("POST", "/1/targets/list.json")]
    spans = [(_day(b["from"]), _day(b["to"])) for b in bodies]
    assert spans[0][0] == dt.date(2026, 11, 1)
    assert spans[-1][1] == dt.date(2026, 12, 30)  # today (2026-11-20) + 40 days
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start == end + dt.timedelta(days=1)
    assert all((end - start).days + 1 <= 31 for start, end in spans)
    assert isinstance(bodies[0]["from"], int)


def test_a_campaign_listed_by_two_windows_is_emitted_once(routed_api):
    def listing(query, body):
        return 200, {"status": "success", "targets": [{"id": 7, "name": "Recurring"}]}

    api = routed_api({"POST /1/targets/list.json": listing})
    run = run_tap(routed_config(api, campaigns_horizon_days=40), streams=["campaigns"])
    assert len(api.calls("POST", "/1/targets/list.json")) == 2
    assert [r["id"] for r in run.records("campaigns")] == [7]
    assert run.records("campaigns")[0]["scheduled_date"] is None


def test_reports_of_completed_campaigns_and_the_rest_pending(sandbox, sandbox_client):
    summary = sandbox_client.seed_summary()
    config = tap_config(sandbox, start_date="2026-10-01", campaign_report_refresh_days=10)
    run = run_tap(config, streams=CAMPAIGNS)
    listed = _seeded(summary, dt.date(2026, 10, 1), TODAY + dt.timedelta(days=365))
    completed = [c["id"] for c in listed if c["report_form"] == "result"]
    waiting = {str(c["id"]): c for c in listed if c["report_form"] != "result"}
    reports = run.records("campaign_reports")
    assert [r["campaign_id"] for r in reports] == completed
    assert all(r["result"]["sent"] > 0 and r["read_on"] == TODAY.isoformat() for r in reports)
    state = run.state["bookmarks"]["campaign_reports"]
    # All three not-completed answers occur and each campaign is remembered for the next run.
    assert {c["report_form"] for c in waiting.values()} == NOT_COMPLETED_FORMS
    assert state["pending"] == {k: _day(c["scheduled_on"]).isoformat() for k, c in waiting.items()}
    assert state["settled"] == {"from": "2026-10-01", "through": "2026-11-10"}  # today - 10 days
    assert _posts(sandbox_client, "/1/targets/result.json") == len(listed)

    # Next run: pending campaigns and those within campaign_report_refresh_days are asked again;
    # campaigns settled (scheduled up to 2026-11-10, completed) are not.
    sandbox_client.reset()
    second = run_tap(config, state=run.state, streams=CAMPAIGNS)
    asked = [
        c
        for c in listed
        if str(c["id"]) in waiting or _day(c["scheduled_on"]) > dt.date(2026, 11, 10)
    ]
    assert _posts(sandbox_client, "/1/targets/result.json") == len(asked) < len(listed)
    assert [r["campaign_id"] for r in second.records("campaign_reports")] == [
        c["id"] for c in asked if c["report_form"] == "result"
    ]
    assert second.state["bookmarks"]["campaign_reports"]["pending"] == state["pending"]


def test_not_completed_campaigns_are_picked_up_once_completed(routed_api):
    completed: set[int] = set()
    listing = [{"id": i, "name": f"C{i}", "scheduled_on": 20261110} for i in (1, 2, 3)]
    not_yet = {
        1: (409, {"status": "fail", "error": "Campaign has not been completed", "code": 409}),
        2: (500, {"status": "fail", "error": "This target has no result as of yet", "code": 500}),
        3: (200, {"status": "success", "error": "This target hasn't been completed", "code": 200}),
    }

    def result(query, body):
        campaign = body["id"]
        if campaign in completed:
            return 200, {"status": "success", "result": {"sent": 100 * campaign}}
        return not_yet[campaign]

    api = routed_api(
        {
            "POST /1/targets/list.json": lambda q, b: (
                200,
                {"status": "success", "targets": listing if b["from"] <= 20261110 else []},
            ),
            "POST /1/targets/result.json": result,
        }
    )
    config = routed_config(api, campaigns_horizon_days=0, max_retries=3)
    first = run_tap(config, streams=CAMPAIGNS)
    assert first.records("campaign_reports") == []
    pending = first.state["bookmarks"]["campaign_reports"]["pending"]
    assert pending == {"1": "2026-11-10", "2": "2026-11-10", "3": "2026-11-10"}
    # Each form is recognised at once: one call per campaign, the 500 is not retried.
    assert len(api.calls("POST", "/1/targets/result.json")) == 3

    completed.update({1, 2, 3})
    second = run_tap(config, state=first.state, streams=CAMPAIGNS)
    reports = {r["campaign_id"]: r["result"] for r in second.records("campaign_reports")}
    assert reports == {1: {"sent": 100}, 2: {"sent": 200}, 3: {"sent": 300}}
    assert second.state["bookmarks"]["campaign_reports"]["pending"] == {}


def test_a_real_server_error_is_retried_not_taken_for_not_completed(routed_api):
    answers = [
        (500, {"status": "fail", "error": "Internal Server Error", "code": 500}),
        (200, {"status": "success", "result": {"sent": 5}}),
    ]
    api = routed_api(
        {
            "POST /1/targets/list.json": lambda q, b: (
                200,
                {"status": "success", "targets": [{"id": 9, "scheduled_on": 20261115}]},
            ),
            "POST /1/targets/result.json": lambda q, b: answers.pop(0),
        }
    )
    run = run_tap(routed_config(api, campaigns_horizon_days=0), streams=CAMPAIGNS)
    assert [r["result"] for r in run.records("campaign_reports")] == [{"sent": 5}]
    assert run.state["bookmarks"]["campaign_reports"]["pending"] == {}


def test_reports_without_the_campaigns_stream_selected(sandbox, sandbox_client):
    config = tap_config(sandbox, start_date="2026-11-01", campaigns_horizon_days=0)
    run = run_tap(config, streams=["campaign_reports"])
    assert run.records("campaigns") == []
    expected = _seeded(sandbox_client.seed_summary(), dt.date(2026, 11, 1), TODAY)
    assert [r["campaign_id"] for r in run.records("campaign_reports")] == [
        c["id"] for c in expected if c["report_form"] == "result"
    ]
