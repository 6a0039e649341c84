"""The record-level API both targets call: renaming, reserved keys, collisions, stats, trimming."""

from __future__ import annotations

import threading

import pytest
from clevertap_segment_common.property_names import (
    CLEVERTAP_RESERVED_KEYS,
    CollisionGroup,
    PropertyNameCollisionError,
    PropertyNameNormalizer,
    collision_groups,
)


def test_renames_top_level_keys_into_a_new_dict():
    record = {"Industry Of Traits": " Hello World", "userID": 7, "plan_type": "pro"}
    normalizer = PropertyNameNormalizer("segment")
    result = normalizer.normalize(record)
    assert result == {"industry_of_traits": " Hello World", "user_id": 7, "plan_type": "pro"}
    assert list(result) == ["industry_of_traits", "user_id", "plan_type"]
    assert record == {"Industry Of Traits": " Hello World", "userID": 7, "plan_type": "pro"}


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("segment", {"http_server": 1, "item_2_count": 2}),
        ("lodash", {"http_server": 1, "item_2_count": 2}),
        ("to-snake-case", {"h_t_t_p_server": 1, "item2_count": 2}),
        ("go-snakecase", {"httpserver": 1, "item2_count": 2}),
        ("none", {"HTTPServer": 1, "Item2Count": 2}),
    ],
)
def test_each_strategy_applies_to_records(strategy: str, expected: dict[str, int]):
    normalizer = PropertyNameNormalizer(strategy)
    assert normalizer.normalize({"HTTPServer": 1, "Item2Count": 2}) == expected


def test_none_strategy_returns_a_copy():
    record = {"First Name": "Ada"}
    result = PropertyNameNormalizer("none").normalize(record)
    assert result == record
    assert result is not record


def test_nested_values_are_untouched_by_default():
    address = {"Street Name": "Main", "Zip Code": " 123 "}
    items = [{"Item Name": "book"}]
    result = PropertyNameNormalizer("segment").normalize({"Home Address": address, "Cart": items})
    assert result == {"home_address": {"Street Name": "Main", "Zip Code": " 123 "}, "cart": items}
    assert result["home_address"] is address
    assert result["cart"] is items


def test_nested_dicts_and_lists_of_dicts_when_enabled():
    record = {
        "Home Address": {"Street Name": "Main", "Geo Point": {"Lat Value": 1.5}},
        "Cart Items": [{"Item Name": "book"}, "Plain String", [{"Deep Key": 1}], 3],
    }
    result = PropertyNameNormalizer("segment", normalize_nested=True).normalize(record)
    assert result == {
        "home_address": {"street_name": "Main", "geo_point": {"lat_value": 1.5}},
        "cart_items": [{"item_name": "book"}, "Plain String", [{"deep_key": 1}], 3],
    }


def test_reserved_clevertap_keys_keep_their_spelling():
    record = {
        "Name": "Ada",
        "Email": "ada@example.com",
        "Customer Type": "Gold",
        "MSG-sms": False,
        "MSG-rcs": True,
        "Charged ID": "o-1",
        "Amount": 3,
        "Items": [{"Product Name": "pen"}],
        "Favourite Color": "green",
    }
    result = PropertyNameNormalizer("segment").normalize(record)
    assert result == {
        "Name": "Ada",
        "Email": "ada@example.com",
        "Customer Type": "Gold",
        "MSG-sms": False,
        "MSG-rcs": True,
        "Charged ID": "o-1",
        "Amount": 3,
        "Items": [{"Product Name": "pen"}],
        "favourite_color": "green",
    }


def test_reserved_keys_are_protected_in_nested_values_too():
    record = {"Favourite Tags": {"$add": ["a"]}, "Items": [{"Product Name": "pen"}]}
    result = PropertyNameNormalizer("segment", normalize_nested=True).normalize(record)
    assert result == {"favourite_tags": {"$add": ["a"]}, "Items": [{"product_name": "pen"}]}


def test_reserved_list_covers_the_documented_clevertap_keys():
    documented = {
        "Name", "Email", "Phone", "Gender", "DOB", "Photo", "Identity", "Employed", "Education",
        "Married", "Age", "Customer Type", "MSG-email", "MSG-push", "MSG-sms", "MSG-whatsapp",
        "Charged ID", "Amount", "Items",
    }  # fmt: skip
    assert documented <= CLEVERTAP_RESERVED_KEYS


def test_reserved_key_protection_can_be_switched_off():
    normalizer = PropertyNameNormalizer("segment", reserved_keys=None, reserved_prefixes=())
    assert normalizer.normalize({"Customer Type": "Gold", "MSG-sms": True}) == {
        "customer_type": "Gold",
        "msg_sms": True,
    }


def test_custom_reserved_keys():
    normalizer = PropertyNameNormalizer("segment", reserved_keys=frozenset({"Keep Me"}))
    assert normalizer.normalize({"Keep Me": 1, "Customer Type": 2}) == {
        "Keep Me": 1,
        "customer_type": 2,
    }


def test_collision_raises_by_default_naming_both_keys_and_the_setting():
    normalizer = PropertyNameNormalizer("segment")
    with pytest.raises(PropertyNameCollisionError) as raised:
        normalizer.normalize({"First Name": "Ada", "first_name": "Grace", "secret": "s3cr3t"})
    message = str(raised.value)
    assert "'First Name'" in message
    assert "'first_name'" in message
    assert "collision_policy" in message
    assert "first_wins" in message
    assert "last_wins" in message
    assert "Ada" not in message
    assert "Grace" not in message
    assert raised.value.source_keys == ("First Name", "first_name")
    assert raised.value.normalized_key == "first_name"
    assert raised.value.strategy == "segment"
    assert normalizer.stats.snapshot()["collisions"] == 1


def test_collision_onto_an_untouched_key_is_detected():
    normalizer = PropertyNameNormalizer("go-snakecase")
    with pytest.raises(PropertyNameCollisionError, match=r"'httpserver'.*'HTTPServer'"):
        normalizer.normalize({"httpserver": 1, "HTTPServer": 2})


def test_collision_in_a_nested_mapping_names_its_location():
    normalizer = PropertyNameNormalizer("segment", normalize_nested=True)
    with pytest.raises(PropertyNameCollisionError, match=r'inside \$\["Home Address"\]\[0\]'):
        normalizer.normalize({"Home Address": [{"Zip Code": 1, "zip-code": 2}]})


def test_first_wins_keeps_the_first_value_and_counts():
    normalizer = PropertyNameNormalizer("segment", collision_policy="first_wins")
    record = {"First Name": "Ada", "Age Group": 3, "first_name": "Grace", "first-name": "Joan"}
    assert normalizer.normalize(record) == {"first_name": "Ada", "age_group": 3}
    snapshot = normalizer.stats.snapshot()
    assert snapshot["collisions"] == 2
    assert snapshot["collision_examples"][0] == {
        "normalized": "first_name",
        "source_keys": ["First Name", "first_name"],
        "kept": "First Name",
        "path": "$",
    }


def test_last_wins_keeps_the_last_value_in_the_first_position():
    normalizer = PropertyNameNormalizer("segment", collision_policy="last_wins")
    result = normalizer.normalize({"First Name": "Ada", "Age Group": 3, "first_name": "Grace"})
    assert result == {"first_name": "Grace", "age_group": 3}
    assert list(result) == ["first_name", "age_group"]
    snapshot = normalizer.stats.snapshot()
    assert snapshot["collisions"] == 1
    assert snapshot["collision_examples"][0]["kept"] == "first_name"


def test_unknown_collision_policy_and_strategy_are_refused():
    with pytest.raises(ValueError, match="first_wins"):
        PropertyNameNormalizer("segment", collision_policy="merge")
    with pytest.raises(ValueError, match="to-snake-case"):
        PropertyNameNormalizer("snake_case")


def test_non_string_keys_get_a_clear_error():
    with pytest.raises(TypeError, match="must be strings"):
        PropertyNameNormalizer("segment").normalize({1: "x"})  # type: ignore[dict-item]


def test_trimming_is_off_by_default_and_strips_strings_when_on():
    record = {"Industry Of Traits": " Hello World ", "Count": 2, "Nested Value": {"Inner": " x "}}
    assert PropertyNameNormalizer("segment").normalize(record)["industry_of_traits"] == (
        " Hello World "
    )
    trimmed = PropertyNameNormalizer("segment", trim_values=True).normalize(record)
    assert trimmed == {
        "industry_of_traits": "Hello World",
        "count": 2,
        "nested_value": {"Inner": " x "},
    }
    deep = PropertyNameNormalizer("segment", trim_values=True, normalize_nested=True)
    assert deep.normalize(record)["nested_value"] == {"inner": "x"}


def test_stats_count_keys_renames_and_sample():
    normalizer = PropertyNameNormalizer("segment", sample_size=2)
    for _ in range(3):
        normalizer.normalize({"First Name": 1, "plan_type": 2, "Last Name": 3, "Zip Code": 4})
    snapshot = normalizer.stats.snapshot()
    assert snapshot["records"] == 3
    assert snapshot["keys_seen"] == 12
    assert snapshot["keys_renamed"] == 9
    assert snapshot["renamed_sample"] == {"First Name": "first_name", "Last Name": "last_name"}
    assert snapshot["collisions"] == 0
    assert snapshot["collision_examples"] == []


def test_stats_count_nested_keys_when_nested_normalization_is_on():
    normalizer = PropertyNameNormalizer("segment", normalize_nested=True)
    normalizer.normalize({"Home Address": {"Zip Code": 1, "city": "x"}})
    snapshot = normalizer.stats.snapshot()
    assert snapshot["keys_seen"] == 3
    assert snapshot["keys_renamed"] == 2


def test_collision_examples_are_bounded():
    normalizer = PropertyNameNormalizer("segment", collision_policy="first_wins", sample_size=3)
    for index in range(10):
        normalizer.normalize({f"Key {index}": 1, f"key_{index}": 2})
    snapshot = normalizer.stats.snapshot()
    assert snapshot["collisions"] == 10
    assert len(snapshot["collision_examples"]) == 3


def test_shared_normalizer_counts_exactly_across_threads():
    normalizer = PropertyNameNormalizer("segment")
    records = [{f"Field Number {index}": index for index in range(40)} for _ in range(200)]
    expected = {f"field_number_{index}": index for index in range(40)}
    failures: list[int] = []

    def work() -> None:
        failures.append(sum(normalizer.normalize(record) != expected for record in records))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snapshot = normalizer.stats.snapshot()
    assert failures == [0] * 8
    assert snapshot["records"] == 1600
    assert snapshot["keys_seen"] == 64000
    assert snapshot["keys_renamed"] == 64000


def test_normalize_key_applies_reserved_protection():
    normalizer = PropertyNameNormalizer("to-snake-case")
    assert normalizer.normalize_key("Customer Type") == "Customer Type"
    assert normalizer.normalize_key("userID") == "user_i_d"


def test_collision_groups_are_sorted_and_deterministic():
    names = ["userId", "Plan", "user_id", "USER ID", "plan", "Other", "User-Id"]
    groups = collision_groups(names, "segment")
    assert groups == [
        CollisionGroup("segment", "plan", ("Plan", "plan")),
        CollisionGroup("segment", "user_id", ("USER ID", "User-Id", "userId", "user_id")),
    ]
    assert collision_groups(list(reversed(names)), "segment") == groups
    assert groups[0].to_dict() == {
        "strategy": "segment",
        "normalized": "plan",
        "names": ["Plan", "plan"],
    }


def test_collision_groups_differ_by_strategy():
    names = ["userID", "user_i_d", "HTTPServer", "httpserver"]
    assert collision_groups(names, "segment") == []
    assert collision_groups(names, "to-snake-case") == [
        CollisionGroup("to-snake-case", "user_i_d", ("userID", "user_i_d")),
    ]
    assert collision_groups(names, "go-snakecase") == [
        CollisionGroup("go-snakecase", "httpserver", ("HTTPServer", "httpserver")),
    ]
    assert collision_groups(names, "none") == []


def test_collision_groups_can_honour_reserved_keys():
    names = ["Customer Type", "customer_type"]
    assert len(collision_groups(names, "segment")) == 1
    reserved = frozenset({"Customer Type"})
    assert collision_groups(names, "segment", reserved_keys=reserved) == []


def test_collision_groups_rejects_unknown_strategy():
    with pytest.raises(ValueError, match="valid strategies"):
        collision_groups(["a"], "camel")
