"""POST /1/upload (docs/clevertap-api.md §4): record codes, statuses, dry run, merge, duplicates."""

from __future__ import annotations

from typing import Any

import pytest

TS = 1_763_500_000


def event(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "event",
        "identity": "user-1",
        "ts": TS,
        "evtName": "Order Placed",
        "evtData": {"Amount": 10.5, "Product Name": "Latte"},
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


def profile(data: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "profile",
        "identity": "user-1",
        "ts": TS,
        "profileData": {"Name": "Jack"} if data is None else data,
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


INVALID = [
    (509, event(evtName=...)),
    (509, event(evtName="")),
    (512, event(evtData={"address": {"city": "Pune"}})),
    (512, event(evtData={"tags": ["a", "b"]})),
    (512, event(evtName="Order Placed", evtData={"Items": [{"Name": "x"}]})),
    (512, event(evtName="Charged", evtData={"Items": [{"Name": {"nested": 1}}]})),
    (512, event(evtData={"k" * 121: 1})),
    (512, event(evtData={"note": "x" * 513})),
    (512, event(evtData={"note": "é" * 300})),  # 300 characters, 600 bytes
    (512, event(evtData={"note": "€" * 171})),  # 171 characters, 513 bytes
    (513, event(evtName="App Launched")),
    (513, event(evtName="notification clicked")),
    (513, event(evtName="UTM Visited")),
    (514, profile({"Gender": "Male"})),
    (515, profile({"Email": "not-an-email"})),
    (516, profile({"Phone": "9876543210"})),
    (516, profile({"Phone": 14155551234})),
    (517, profile({"Employed": "yes"})),
    (518, profile({"Education": "PhD"})),
    (519, profile({"Married": "true"})),
    (520, profile({"Age": "thirty"})),
    (520, profile({"Age": -3})),
    (522, event(evtData={f"p{i}": i for i in range(101)})),
    (523, event(identity=...)),
    (523, profile(identity="")),
    (523, event(identity="a", objectId="__abc")),
    (524, event(type="token")),
    (524, {"identity": "user-1", "evtName": "x"}),
    (524, "just a string"),
    (525, event(ts=0)),
    (525, event(ts=-5)),
    (525, event(ts=1_763_500_000_000)),
    (525, event(ts=1_763_500_000.5)),
    (525, event(ts="1763500000")),
    (526, event(identity=..., objectId="not valid!")),
    (526, event(identity=..., objectId=12345)),
    (555, profile({"k" * 121: 1})),
    (555, profile({"Bio": "x" * 513})),
    (555, profile({"Bio": "é" * 300})),  # 600 bytes
    (555, profile({"é" * 61: 1})),  # a 61-character key of 122 bytes
    (555, profile({"Tags": ["x" * 513]})),
    (555, profile({"address": {"city": "Pune"}})),
]


@pytest.mark.parametrize(("code", "record"), INVALID)
def test_each_documented_code(clevertap: Any, code: int, record: Any) -> None:
    response = clevertap.upload([event(), record])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "partial"
    assert body["processed"] == 1
    [rejected] = body["unprocessed"]
    assert rejected["status"] == "fail"
    assert rejected["code"] == code
    assert rejected["error"].endswith("Skipped record number : 2")
    assert rejected["record"] == record


def test_observed_messages(clevertap: Any) -> None:
    body = clevertap.upload([profile({"Email": "x"}), event(ts=0)]).json()
    assert [u["error"] for u in body["unprocessed"]] == [
        "Profile data is incorrect. Email is not valid.Skipped record number : 1",
        "Timestamp should be present in the Unix Epoch format. Skipped record number : 2",
    ]


VALID = [
    event(evtName="Charged", evtData={"Amount": 3, "Items": [{"Name": "x", "Qty": 1}]}),
    event(ts=...),
    event(identity=..., objectId="__0a1b2c3d4e5f"),
    event(identity=..., FBID="10001"),
    event(identity=..., GPID="20002"),
    event(identity=12345),
    event(evtData={f"p{i}": i for i in range(100)}),
    event(evtData={"When": "$D_1700000000", "k" * 120: "x" * 512}),
    event(evtData={"é" * 120: "é" * 256}),  # keys count characters; 512 bytes of value
    profile({"Email": "jack@example.com", "Phone": "+14155551234", "Gender": "F"}),
    profile({"Employed": "Y", "Education": "Graduate", "Married": "N", "Age": 33}),
    profile({"Interests": ["tea", "coffee"], "MSG-sms": False, "DOB": "$D_631152000"}),
    profile({"é" * 60: "é" * 256, "Tags": ["é" * 512]}),  # 120-byte key, 512 bytes; item chars
    profile({"points": {"$incr": 5}, "tags": {"$add": ["vip"]}}),
    profile(data=...),
]


def test_valid_records_are_processed(clevertap: Any, sandbox_client: Any) -> None:
    body = clevertap.upload(VALID).json()
    assert body == {"status": "success", "processed": len(VALID), "unprocessed": []}
    assert len(sandbox_client.clevertap_uploaded_events()) == 9


def test_record_numbers_are_one_based_positions(clevertap: Any) -> None:
    records = [event(), event(evtName=...), event(), profile({"Gender": "x"}), event(ts=0)]
    body = clevertap.upload(records).json()
    assert body["status"] == "partial"
    assert body["processed"] == 2
    assert [u["code"] for u in body["unprocessed"]] == [509, 514, 525]
    numbers = [int(u["error"].rsplit(":", 1)[1]) for u in body["unprocessed"]]
    assert numbers == [2, 4, 5]


def test_all_records_invalid_is_fail_with_http_200(clevertap: Any, sandbox_client: Any) -> None:
    response = clevertap.upload([event(evtName=...), profile({"Email": "x"})])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "fail"
    assert body["processed"] == 0
    assert len(body["unprocessed"]) == 2
    assert sandbox_client.clevertap_uploaded_events() == []


def test_request_level_failures(clevertap: Any, sandbox_client: Any) -> None:
    malformed = clevertap.session.post(clevertap.base + "/1/upload", data=b"{oops")
    assert malformed.status_code == 400
    assert malformed.json() == {"status": "fail", "error": "Malformed request", "code": 400}
    no_d = clevertap.post("/1/upload", {"records": []})
    assert no_d.status_code == 400
    too_many = clevertap.upload([event() for _ in range(1001)])
    assert too_many.status_code == 400
    assert too_many.json()["status"] == "fail"
    assert "unprocessed" not in too_many.json()
    assert sandbox_client.clevertap_uploaded_events() == []
    exactly = clevertap.upload([event() for _ in range(1000)])
    assert exactly.json()["processed"] == 1000
    log = sandbox_client.clevertap_upload_log()
    assert [(e["records"], e["http_status"]) for e in log] == [
        (0, 400),
        (0, 400),
        (1001, 400),
        (1000, 200),
    ]


def test_dry_run_validates_without_storing(clevertap: Any, sandbox_client: Any) -> None:
    records = [event(), profile(), event(evtName=...)]
    dry = clevertap.upload(records, query="?dryRun=1").json()
    real = clevertap.upload(records).json()
    assert dry == real
    assert dry["status"] == "partial"
    assert len(sandbox_client.clevertap_uploaded_events()) == 1
    assert len(sandbox_client.clevertap_profiles()) == 1
    log = sandbox_client.clevertap_upload_log()
    assert [e["dry_run"] for e in log] == [True, False]
    assert log[0]["status"] == "partial"
    assert log[0]["codes"] == {"509": 1}


def test_identical_events_are_stored_twice_and_counted(clevertap: Any, sandbox_client: Any) -> None:
    clevertap.upload([event(), event(evtName="Other")])
    clevertap.upload([event()])
    events = sandbox_client.clevertap_uploaded_events()
    assert [e["evtName"] for e in events] == ["Order Placed", "Other", "Order Placed"]
    uploads = sandbox_client.clevertap_stats()["uploads"]
    assert uploads["events_stored"] == 3
    assert uploads["distinct_event_fingerprints"] == 2
    assert uploads["duplicate_events"] == 1


def test_dates_are_stored_as_dates(clevertap: Any, sandbox_client: Any) -> None:
    clevertap.upload(
        [
            event(evtData={"When": "$D_1700000000", "Label": "$D_soon"}),
            profile({"DOB": "$D_631152000"}),
        ]
    )
    [stored] = sandbox_client.clevertap_uploaded_events()
    assert stored["evtData"] == {"When": {"$date": 1700000000}, "Label": "$D_soon"}
    [merged] = sandbox_client.clevertap_profiles()
    assert merged["profileData"]["DOB"] == {"$date": 631152000}


def test_profiles_merge_like_clevertap(clevertap: Any, sandbox_client: Any) -> None:
    clevertap.upload(
        [
            profile({"Name": "Jack", "points": 10, "tags": ["a"], "City": "Pune"}),
            profile({"Name": "Jack S", "points": {"$incr": 5}, "tags": {"$add": ["b", "a"]}}),
            profile({"points": {"$decr": 3}, "tags": {"$remove": ["a"]}, "solo": {"$add": "x"}}),
            profile({"Name": "Other"}, identity="user-2"),
        ]
    )
    profiles = {p["identity"]: p for p in sandbox_client.clevertap_profiles()}
    assert set(profiles) == {"user-1", "user-2"}
    assert profiles["user-1"]["profileData"] == {
        "Name": "Jack S",
        "points": 12,
        "tags": ["b"],
        "City": "Pune",
        "solo": ["x"],
    }
    assert profiles["user-1"]["uploads"] == 3


def test_identity_can_be_linked_to_an_anonymous_device(clevertap: Any, sandbox_client: Any) -> None:
    device = "__f00dfeed"
    clevertap.upload([profile({"Plan": "Free"}, identity=..., objectId=device)])
    clevertap.upload([profile({"identity": "user-9"}, identity=..., objectId=device)])
    clevertap.upload([profile({"Plan": "Pro"}, identity="user-9")])
    [merged] = sandbox_client.clevertap_profiles()
    assert merged["objectId"] == device
    assert merged["identity"] == "user-9"
    assert merged["profileData"]["Plan"] == "Pro"


def test_property_limit_and_nested_objects_are_settings(
    sandbox_factory: Any, caller_for: Any
) -> None:
    sandbox = sandbox_factory(max_event_properties=5, allow_nested_objects=True, days=1)
    client = caller_for(sandbox)
    body = client.upload([event(evtData={f"p{i}": i for i in range(6)})]).json()
    assert body["unprocessed"][0]["code"] == 522
    nested = client.upload([event(evtData={"a": {"b": 1}}), profile({"c": {"d": 2}})]).json()
    assert nested == {"status": "success", "processed": 2, "unprocessed": []}


def test_byte_limits_name_the_field_and_the_unit(clevertap: Any) -> None:
    records = [event(evtData={"note": "é" * 300}), profile({"Bio": "é" * 300})]
    body = clevertap.upload(records).json()
    assert [u["error"] for u in body["unprocessed"]] == [
        "Event data is incorrect. Value longer than 512 bytes for field : note."
        "Skipped record number : 1",
        "Profile data is incorrect. Value longer than 512 bytes : Bio.Skipped record number : 2",
    ]
