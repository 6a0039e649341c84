"""The matching rule of match_account and of the property-name audit (account_names)."""

from __future__ import annotations

import pytest
from clevertap_segment_common.clevertap_schema import event_property_names, profile_property_names
from clevertap_segment_common.property_names.account_names import (
    AccountNames,
    detect_convention,
    match_key,
)


def keep(name: str) -> str:
    return name


def snake(name: str) -> str:
    return "new:" + name  # a recognisable conversion, to see when it is used


@pytest.mark.parametrize(
    ("account", "incoming", "written", "decided"),
    [
        (["industry_of_traits"], "Industry Of Traits", "industry_of_traits", "matched"),
        (["Plan Type"], "plan_type", "Plan Type", "matched"),
        (["Plan Type"], "planType", "Plan Type", "matched"),
        (["Plan Type"], "Plan Type", "Plan Type", "matched"),
        (["Plan Type"], "Planet Type", "new:Planet Type", "new"),
        ([], "Plan Type", "new:Plan Type", "new"),
        # CleverTap's reserved names only match themselves, both ways
        (["customer_type"], "Customer Type", "Customer Type", "reserved"),
        (["Customer Type"], "customer_type", "new:customer_type", "new"),
        (["msg_sms"], "MSG-sms", "MSG-sms", "reserved"),
    ],
)
def test_a_name_is_written_in_the_spelling_the_account_holds(
    account, incoming, written, decided
) -> None:
    decision = AccountNames(account).decide(incoming, split="newest", new_name=snake)
    assert (decision.written, decision.decided) == (written, decided)


@pytest.mark.parametrize(
    ("choice", "incoming", "written"),
    [
        ("newest", "Plan Type", "planType"),  # listed last: first seen last
        ("segment", "planType", "plan_type"),
        ("as_sent", "Plan Type", "Plan Type"),
        ("as_sent", "PLAN TYPE", "planType"),  # not a spelling the account has: the newest
    ],
)
def test_a_split_name_writes_the_chosen_spelling_and_says_which_it_had(
    choice, incoming, written
) -> None:
    names = AccountNames(["Plan Type", "plan_type", "planType"])
    decision = names.decide(incoming, split=choice, new_name=keep)
    assert decision.written == written
    assert decision.decided == "split"
    assert decision.spellings == ("Plan Type", "plan_type", "planType")


def test_splits_lists_every_key_held_in_two_or_more_spellings() -> None:
    names = AccountNames(["First Name", "points", "first_name", "Email", "email", "CTAButton"])
    names.add("cta_button")
    assert names.splits() == [("First Name", "first_name"), ("CTAButton", "cta_button")]
    assert match_key("Email") == "Email"  # reserved: not the same key as "email"


def test_convention_follows_the_majority_of_multi_word_names() -> None:
    snake_account = ["plan_type", "first_name", "Last Name", "points", "Email", "Customer Type"]
    convention = detect_convention(snake_account)
    assert (convention.strategy, convention.snake_case, convention.other) == ("segment", 2, 1)
    assert "2 of the account's 3 multi-word" in convention.reason

    as_sent = ["Plan Type", "firstName", "plan_type", "Points"]
    assert detect_convention(as_sent).strategy == "none"


@pytest.mark.parametrize("names", [[], ["points", "Email", "Brand"], ["Plan Type", "plan_type"]])
def test_convention_without_a_majority_keeps_names_as_sent(names) -> None:
    convention = detect_convention(names)
    assert convention.strategy == "none"
    assert convention.reason.endswith("so new names are written as sent")


def test_schema_answers_give_names_in_listed_order_whatever_their_shape() -> None:
    events = {
        "status": "success",
        "events": [
            {"name": "Search", "properties": [{"name": "b"}, {"name": "A b"}, {"name": "b"}]},
            {"eventName": "Viewed", "props": {"x": "string", "y": "integer"}},
            "Bare Event",
            {"name": "Search", "properties": [{"name": "c"}]},
        ],
    }
    assert event_property_names(events) == {
        "Search": ["b", "A b", "c"],
        "Viewed": ["x", "y"],
        "Bare Event": [],
    }
    profiles = {"userProperties": [{"name": "z"}, {"name": "a"}, {"name": "z"}]}
    assert profile_property_names(profiles) == ["z", "a"]
