"""Settings checks that JSON schema cannot express, with the messages users see."""

from __future__ import annotations

import pytest
from tap_clevertap.errors import SettingsError
from tap_clevertap.settings import Settings, resolve_base_url

BASE = {
    "account_id": "ACC",
    "passcode": "secret-passcode",
    "timezone": "Asia/Kolkata",
    "start_date": "2026-11-01",
}


@pytest.mark.parametrize(
    ("region", "url"),
    [
        (None, "https://api.clevertap.com"),
        ("eu1", "https://api.clevertap.com"),
        ("global", "https://api.clevertap.com"),
        ("in1", "https://in1.api.clevertap.com"),
        ("us1", "https://us1.api.clevertap.com"),
        ("sg1", "https://sg1.api.clevertap.com"),
        ("aps3", "https://aps3.api.clevertap.com"),
        ("mec1", "https://mec1.api.clevertap.com"),
        ("IN1", "https://in1.api.clevertap.com"),
    ],
)
def test_region_hosts(region, url):
    assert resolve_base_url(region, None) == url


def test_sk1_is_accepted_with_a_warning(caplog):
    assert resolve_base_url("sk1", None) == "https://sk1.api.clevertap.com"
    assert "may no longer be live" in caplog.text


def test_unknown_region_lists_the_valid_ones():
    with pytest.raises(SettingsError, match=r"'xx1'.*aps3, eu1, global"):
        resolve_base_url("xx1", None)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8780", "http://127.9.9.9/x", "http://[::1]:80", "http://localhost:1"],
)
def test_plain_http_is_allowed_for_loopback(url):
    assert resolve_base_url(None, url + "/") == url


@pytest.mark.parametrize(
    "url", ["http://api.clevertap.com", "http://10.0.0.5:8080", "http://[::2]"]
)
def test_plain_http_is_refused_elsewhere(url):
    with pytest.raises(SettingsError, match=r"plain http:// .* unencrypted"):
        resolve_base_url(None, url)


def test_api_url_wins_over_region():
    assert resolve_base_url("in1", "https://proxy.example/ct") == "https://proxy.example/ct"


def test_api_url_must_be_a_url():
    with pytest.raises(SettingsError, match="absolute http"):
        resolve_base_url(None, "ftp://x")


@pytest.mark.parametrize("size", [23, 4991, 230])
def test_batch_size_multiples_of_23(size):
    assert Settings.from_config({**BASE, "batch_size": size}).batch_size == size


@pytest.mark.parametrize("size", [5000, 4990, 0, -23, 5013])
def test_batch_size_rejected_with_the_rule(size):
    with pytest.raises(SettingsError, match=r"multiple of 23.*at most 5000.*4991"):
        Settings.from_config({**BASE, "batch_size": size})


def test_timezone_is_required():
    config = {k: v for k, v in BASE.items() if k != "timezone"}
    with pytest.raises(SettingsError, match="'timezone' is required"):
        Settings.from_config(config)


def test_unknown_timezone_is_named():
    with pytest.raises(SettingsError, match=r"'Mars/Olympus'.*IANA"):
        Settings.from_config({**BASE, "timezone": "Mars/Olympus"})


@pytest.mark.parametrize("value", [0, 4, "3"])
def test_max_concurrency_is_1_to_3(value):
    with pytest.raises(SettingsError, match=r"max_concurrency.*from 1 to 3"):
        Settings.from_config({**BASE, "max_concurrency": value})


@pytest.mark.parametrize("value", [0, 32, "7"])
def test_export_window_days_is_1_to_31(value):
    with pytest.raises(SettingsError, match=r"export_window_days.*from 1 to 31"):
        Settings.from_config({**BASE, "export_window_days": value})


def test_end_date_before_start_date():
    with pytest.raises(SettingsError, match="before 'start_date'"):
        Settings.from_config({**BASE, "end_date": "2026-10-01"})


def test_export_flags_only_sent_when_not_default():
    assert Settings.from_config(BASE).export_params == ()
    settings = Settings.from_config(
        {
            **BASE,
            "export_profile_events_summary": False,
            "export_profile_data": False,
            "export_app_fields": True,
        }
    )
    assert settings.export_params == (("events", "false"), ("profile", "false"), ("app", "true"))


def test_settings_error_does_not_echo_the_passcode():
    with pytest.raises(SettingsError) as info:
        Settings.from_config({**BASE, "batch_size": 7})
    assert "secret-passcode" not in str(info.value)


def test_defaults_of_the_campaign_report_and_count_settings():
    settings = Settings.from_config(BASE)
    assert settings.campaigns_horizon_days == 365
    assert settings.campaign_report_refresh_days == 30
    assert settings.message_report_daily is False
    assert settings.count_events is None
    assert settings.trend_type == "weekly"
    assert (settings.count_poll_interval, settings.count_max_wait) == (2.0, 600.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"trend_type": "hourly"}, r"'trend_type' is 'hourly'; use one of daily, weekly, monthly"),
        ({"campaigns_horizon_days": -1}, r"campaigns_horizon_days.*from 0 to 3660"),
        ({"campaign_report_refresh_days": 1.5}, r"campaign_report_refresh_days.*integer"),
        ({"count_max_wait": 0}, r"count_max_wait.*positive"),
        ({"count_poll_interval": "fast"}, r"count_poll_interval.*positive"),
        ({"count_events": ["ok", ""]}, r"count_events.*non-empty event names"),
    ],
)
def test_new_settings_are_checked(change, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_config({**BASE, **change})
