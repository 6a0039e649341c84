"""property_names: match_account against the sandbox: the account's spellings, never a second key.

The account is seeded through the sandbox's real /1/upload (its getSchema then lists those names
as spelled, in the order first received) before the target runs; what the target wrote is read
back from the sandbox's stored uploads and from getSchema.
"""

from __future__ import annotations

import time
import typing as t

import pytest
import requests
from clevertap_segment_common.property_names import NormalizationStats
from clevertap_testkit import record, run_target, schema, singer_text, start_target
from scripted_http import ScriptedHTTPServer
from target_clevertap.name_matcher import AccountNameMatcher
from target_clevertap.schema_reader import SchemaReader, SchemaUnreadable

EVENT = "Plan Chosen"
EVENTS = {"kind": "event", "identity": "user", "event_name": EVENT}
PROFILES = {"kind": "profile", "identity": "user"}


class Account:
    """The sandbox account, written and read over its real API."""

    def __init__(self, sandbox: t.Any) -> None:
        settings = sandbox.settings
        self.url = sandbox.clevertap_url
        self.headers = {
            "X-CleverTap-Account-Id": settings.account_id,
            "X-CleverTap-Passcode": settings.passcode,
        }

    def upload(self, *records: dict[str, t.Any]) -> None:
        """Write as another feed of the account would (SDK or Segment's destination)."""
        response = requests.post(
            f"{self.url}/1/upload", json={"d": list(records)}, headers=self.headers, timeout=30
        )
        assert response.json()["status"] == "success", response.text

    def event_names(self, event: str) -> list[str]:
        answer = requests.get(f"{self.url}/getSchema?type=events", headers=self.headers, timeout=30)
        events = {e["name"]: e["properties"] for e in answer.json()["events"]}
        return [p["name"] for p in events.get(event, [])]

    def profile_names(self) -> list[str]:
        answer = requests.get(
            f"{self.url}/getSchema?type=userProperties", headers=self.headers, timeout=30
        )
        return [p["name"] for p in answer.json()["userProperties"]]


@pytest.fixture
def account(sandbox: t.Any, sandbox_client: t.Any) -> Account:
    """The freshly reset shared sandbox account."""
    _ = sandbox_client
    return Account(sandbox)


def event(user: str, **data: t.Any) -> dict[str, t.Any]:
    return {"type": "event", "identity": user, "evtName": EVENT, "evtData": data}


def profile(user: str, **data: t.Any) -> dict[str, t.Any]:
    return {"type": "profile", "identity": user, "profileData": data}


def plans(*rows: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    fields = {"user": {}, "Industry Of Traits": {}, "plan_type": {}, "n": {}}
    return [schema("plans", fields), *(record("plans", row) for row in rows)]


def people(*rows: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    fields = {"user": {}, "Customer Tier": {}, "favourite_colour": {}}
    return [schema("people", fields), *(record("people", row) for row in rows)]


def stored_events(sandbox_client: t.Any) -> list[dict[str, t.Any]]:
    return [e["evtData"] for e in sandbox_client.clevertap_uploaded_events()]


def stored_profile(sandbox_client: t.Any, identity: str) -> dict[str, t.Any]:
    profiles = sandbox_client.clevertap_profiles()
    return dict(next(p for p in profiles if p.get("identity") == identity)["profileData"])


def test_event_and_profile_names_take_the_spelling_the_account_holds(
    config, account, sandbox_client
) -> None:
    account.upload(
        event("seed", industry_of_traits="Retail", **{"Plan Type": "Pro"}),
        profile("seed", customer_tier="gold", **{"Favourite Colour": "red"}),
    )
    config["stream_mappings"] = {"plans": EVENTS, "people": PROFILES}
    messages = [
        *plans({"user": "u-1", "Industry Of Traits": "Retail", "plan_type": "Free", "n": 1}),
        *people({"user": "u-1", "Customer Tier": "silver", "favourite_colour": "blue"}),
    ]
    run = run_target(config, messages)

    ours = [data for data in stored_events(sandbox_client) if data.get("n") == 1]
    assert ours == [{"industry_of_traits": "Retail", "Plan Type": "Free", "n": 1}]
    assert stored_profile(sandbox_client, "u-1") == {
        "customer_tier": "silver",
        "Favourite Colour": "blue",
    }
    # no second key: every name the target wrote was already the account's, or new ("n")
    assert account.event_names(EVENT) == ["industry_of_traits", "Plan Type", "n"]
    assert account.profile_names()[-2:] == ["customer_tier", "Favourite Colour"]

    names = run.summary["account_names"]
    assert {(m.get("event"), m["name"], m["written"]) for m in names["matched_sample"]} == {
        (EVENT, "Industry Of Traits", "industry_of_traits"),
        (EVENT, "plan_type", "Plan Type"),
        (None, "Customer Tier", "customer_tier"),
        (None, "favourite_colour", "Favourite Colour"),
    }
    assert names["new_sample"] == [
        {"scope": "event", "event": EVENT, "name": "n", "written": "n", "convention": "none"}
    ]
    assert run.summary["property_names"]["keys_renamed"] == 4


def schema_reads(sandbox_client: t.Any) -> list[str]:
    paths = [r["path"] for r in sandbox_client.clevertap_requests()]
    return sorted(path for path in paths if path.startswith("/getSchema"))


def test_the_schema_is_read_while_the_target_still_waits_for_input(
    config, account, sandbox_client, tmp_path
) -> None:
    """In a pipeline the tap is still starting up then: the read costs the run no time."""
    account.upload(event("seed", industry_of_traits="Retail"))
    config["stream_mappings"] = {"plans": EVENTS}
    expected = ["/getSchema?type=events", "/getSchema?type=userProperties"]
    with start_target(config, tmp_path) as target:
        for _ in range(600):  # bounds the wait; the reads come long before
            if schema_reads(sandbox_client) == expected or target.poll() is not None:
                break
            time.sleep(0.1)
        assert schema_reads(sandbox_client) == expected  # no input has been written yet
        rows = plans({"user": "u-1", "Industry Of Traits": "Retail", "plan_type": "Free", "n": 1})
        _, errors = target.communicate(singer_text(rows), timeout=60)
    assert target.returncode == 0, errors
    ours = [data for data in stored_events(sandbox_client) if data.get("n") == 1]
    assert ours == [{"industry_of_traits": "Retail", "plan_type": "Free", "n": 1}]
    assert schema_reads(sandbox_client) == expected  # it used the read it started, no second one


def test_a_schema_read_started_early_still_stops_the_run_at_the_first_schema(
    config, sandbox_client, tmp_path
) -> None:
    config.update(stream_mappings={"plans": EVENTS}, passcode="not-the-passcode")
    with start_target(config, tmp_path) as target:
        rows = plans({"user": "u-1", "Industry Of Traits": "Retail", "plan_type": "Free", "n": 1})
        output, errors = target.communicate(singer_text(rows), timeout=60)
    assert target.returncode != 0
    assert "property_names is match_account, which reads the account's property names" in errors
    assert "Nothing was uploaded" in errors
    assert "not-the-passcode" not in errors
    assert output == ""  # no STATE
    assert sandbox_client.clevertap_upload_log() == []


@pytest.mark.parametrize(
    ("choice", "incoming", "written"),
    [
        ("newest", "IndOf", "Ind Of"),  # the spelling the account saw last
        ("segment", "IndOf", "ind_of"),
        ("as_sent", "ind_of", "ind_of"),
        ("as_sent", "IndOf", "Ind Of"),  # not one of the account's: the newest
    ],
)
def test_a_split_account_is_reported_and_gets_no_third_spelling(
    config, account, sandbox_client, choice, incoming, written
) -> None:
    account.upload(profile("seed", ind_of="a"), profile("seed", **{"Ind Of": "b"}))
    config.update(stream_mappings={"people": PROFILES}, split_property_names=choice)
    rows = [
        schema("people", {"user": {}, incoming: {}}),
        record("people", {"user": "u-1", incoming: "c"}),
    ]
    run = run_target(config, rows)

    assert stored_profile(sandbox_client, "u-1") == {written: "c"}
    assert [n for n in account.profile_names() if n in ("ind_of", "Ind Of", "IndOf")] == [
        "ind_of",
        "Ind Of",
    ]
    names = run.summary["account_names"]
    (split,) = names["split_sample"]
    assert split == {
        "scope": "profile",
        "name": incoming,
        "written": written,
        "spellings": ["ind_of", "Ind Of"],
        "choice": choice,
    }
    assert names["account_split_names"] >= 1


def levels(*names: str) -> list[dict[str, t.Any]]:
    fields = {"user": {}, "n": {}, **{name: {} for name in names}}
    rows = [{"user": "u-1", "n": n, name: f"v{n}"} for n, name in enumerate(names)]
    return [schema("levels", fields, ["n"]), *(record("levels", row) for row in rows)]


def test_new_names_follow_the_reported_convention_and_every_batch_agrees(
    config, account, sandbox_client
) -> None:
    config.update(
        stream_mappings={"levels": {**EVENTS, "event_name": "Level Up"}},
        batch_size_rows=1,
        max_concurrency=1,
    )
    run = run_target(config, levels("Level Name", "level_name", "LevelName"))

    assert [sorted(data) for data in stored_events(sandbox_client)] == [["Level Name", "n"]] * 3
    assert sorted(account.event_names("Level Up")) == ["Level Name", "n"]  # one spelling, as sent
    names = run.summary["account_names"]
    assert names["new_names_convention"] == "none"
    assert "multi-word property names keep other spellings" in names["new_names_convention_reason"]
    assert {(n["name"], n["written"]) for n in names["new_sample"]} == {
        ("n", "n"),
        ("Level Name", "Level Name"),
    }
    assert {(n["name"], n["written"]) for n in names["matched_sample"]} == {
        ("level_name", "Level Name"),
        ("LevelName", "Level Name"),
    }


def test_auto_writes_new_names_snake_case_in_a_mostly_snake_case_account(
    config, account, sandbox_client
) -> None:
    account.upload(profile("seed", **{f"extra_prop_{n}": n for n in range(12)}))
    config["stream_mappings"] = {"levels": {**EVENTS, "event_name": "Level Up"}}
    run = run_target(config, levels("Level Name"))
    assert [sorted(data) for data in stored_events(sandbox_client)] == [["level_name", "n"]]
    names = run.summary["account_names"]
    assert names["new_names_convention"] == "segment"
    assert "are in Segment's snake_case form" in names["new_names_convention_reason"]


def test_an_explicit_convention_for_new_names(config, account, sandbox_client) -> None:
    config.update(
        stream_mappings={"levels": {**EVENTS, "event_name": "Level Up"}},
        new_property_names="segment",
    )
    run = run_target(config, levels("Level Name"))
    assert [sorted(data) for data in stored_events(sandbox_client)] == [["level_name", "n"]]
    assert run.summary["account_names"]["new_names_convention_reason"] == "configured"


def test_the_journal_fingerprint_survives_a_schema_change_between_runs(
    config, account, sandbox_client
) -> None:
    config["stream_mappings"] = {"levels": {**EVENTS, "event_name": "Level Up"}}
    run_target(config, levels("Level Name"))
    account.upload({**event("other", level_name="x"), "evtName": "Level Up"})  # now split
    again = run_target(config, levels("Level Name"))
    assert again.summary["skipped_by_reason"] == {"already_delivered": 1}
    assert len(stored_events(sandbox_client)) == 2  # the first run's event and the other one


def test_two_spellings_of_one_name_in_a_record_collide(config, account, sandbox_client) -> None:
    account.upload(event("seed", **{"Plan Type": "Pro"}))
    config["stream_mappings"] = {"plans": EVENTS}
    run = run_target(config, plans({"user": "u-1", "plan_type": "a", "Industry Of Traits": "b"}))
    assert run.summary["delivered"] == 1
    both = [schema("plans", {"user": {}, "Plan Type": {}, "plan_type": {}})]
    both.append(record("plans", {"user": "u-2", "Plan Type": "a", "plan_type": "b"}))
    (rejected,) = run_target(config, both).rejects
    assert (rejected["rule"], rejected["field"]) == ("property_name_collision", "Plan Type")
    assert "'Plan Type' and 'plan_type'" in rejected["reason"]


def test_reserved_names_keep_their_spelling(config, account, sandbox_client) -> None:
    account.upload(profile("seed", customer_type="vip", email="x"))
    config["stream_mappings"] = {"people": PROFILES}
    rows = [schema("people", {"user": {}, "Customer Type": {}, "Email": {}})]
    rows.append(record("people", {"user": "u-1", "Customer Type": "new", "Email": "a@b.co"}))
    run_target(config, rows)
    assert stored_profile(sandbox_client, "u-1") == {"Customer Type": "new", "Email": "a@b.co"}


def test_an_event_new_to_the_run_reads_the_schema_again_at_most_as_often_as_allowed(
    config, account, sandbox
) -> None:
    now = [0.0]
    matcher = AccountNameMatcher(
        SchemaReader(
            sandbox.clevertap_url,
            config["account_id"],
            config["passcode"],
            timeout=30,
        ),
        new_names="none",
        split="newest",
        refresh_seconds=60,
        collision_policy="error",
        stats=NormalizationStats(),
        clock=lambda: now[0],
    )
    matcher.load()
    account.upload({**event("other", late_prop=1), "evtName": "Late Event"})
    account.upload({**event("other", later_prop=1), "evtName": "Later Event"})
    # within 60 s of the first read: not read again, so the name is new to this run
    assert matcher.rename("Late Event", {"Late Prop": 1}) == {"Late Prop": 1}
    now[0] = 61.0
    assert matcher.rename("Later Event", {"Later Prop": 1}) == {"later_prop": 1}
    assert matcher.rename("Later Event", {"Later Prop": 2}) == {"later_prop": 2}
    assert matcher.counts["schema_reads"] == 3  # events + userProperties, then events once
    assert matcher.rename("Late Event", {"Late Prop": 3}) == {"Late Prop": 3}  # as decided


def test_nested_key_normalization_needs_an_explicit_convention(config) -> None:
    from singer_sdk.exceptions import ConfigValidationError
    from target_clevertap.target import TargetCleverTap

    with pytest.raises(ConfigValidationError, match="normalize_nested_keys needs an explicit"):
        TargetCleverTap(config={**config, "normalize_nested_keys": True})
    TargetCleverTap(config={**config, "normalize_nested_keys": True, "property_names": "segment"})


def test_a_failed_re_read_stops_the_run_rather_than_guess_a_spelling() -> None:
    answers = {
        "/getSchema?type=events": (200, b'{"status":"success","events":[]}', {}),
        "/getSchema?type=userProperties": (200, b'{"status":"success","userProperties":[]}', {}),
    }
    with ScriptedHTTPServer(lambda request: answers[request.path]) as server:
        now = [0.0]
        matcher = AccountNameMatcher(
            SchemaReader(server.url, "A", "p", timeout=5, max_retries=0),
            new_names="none",
            split="newest",
            refresh_seconds=0,
            collision_policy="error",
            stats=NormalizationStats(),
            clock=lambda: now[0],
        )
        matcher.load()
        answers["/getSchema?type=events"] = (401, b'{"status":"fail","code":401}', {})
        with pytest.raises(SchemaUnreadable) as caught:
            matcher.rename("Brand New", {"a": 1})
    message = str(caught.value)
    assert "event 'Brand New' is not in the schema read at the start" in message
    assert "a re-run resumes here" in message
