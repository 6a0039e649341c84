"""The ``property-names`` console script, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "property-names"


def run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def lines(*names: str) -> str:
    return "".join(json.dumps(name) + "\n" for name in names)


def test_console_script_is_installed():
    assert SCRIPT.exists()


def test_normalize_defaults_to_segment():
    completed = run("normalize", stdin=lines("Industry Of Traits", "userID", "some😀emoji", "名前"))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        '"industry_of_traits"',
        '"user_id"',
        '"some_😀_emoji"',
        '"名前"',
    ]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("to-snake-case", ['"user_i_d"', '"h_t_t_p_server"', '""']),
        ("go-snakecase", ['"user_id"', '"httpserver"', '""']),
        ("none", ['"userID"', '"HTTPServer"', '"名前"']),
    ],
)
def test_normalize_with_strategy(strategy: str, expected: list[str]):
    completed = run(
        "normalize", "--strategy", strategy, stdin=lines("userID", "HTTPServer", "名前")
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == expected


def test_names_with_newlines_and_spaces_round_trip():
    completed = run("normalize", "--strategy", "none", stdin=lines(" a\nb ", "\u2028"))
    assert [json.loads(line) for line in completed.stdout.splitlines()] == [" a\nb ", "\u2028"]


def test_bad_json_line_reports_its_number():
    completed = run("normalize", stdin=lines("First Name") + "First Name\n")
    assert completed.returncode == 1
    assert completed.stdout == '"first_name"\n'
    assert "line 2" in completed.stderr
    assert "not valid JSON" in completed.stderr


def test_non_string_line_reports_its_number_and_type():
    completed = run("audit", stdin=lines("a") + '{"name": 1}\n')
    assert completed.returncode == 1
    assert "line 2" in completed.stderr
    assert "expected a JSON string, got dict" in completed.stderr


def test_unknown_strategy_is_refused_with_the_choices():
    completed = run("normalize", "--strategy", "snake", stdin="")
    assert completed.returncode == 2
    assert "go-snakecase" in completed.stderr


def test_audit_one_strategy():
    completed = run(
        "audit", "--strategy", "segment", stdin=lines("First Name", "first_name", "Plan", "userID")
    )
    assert completed.returncode == 0, completed.stderr
    assert [json.loads(line) for line in completed.stdout.splitlines()] == [
        {"strategy": "segment", "normalized": "first_name", "names": ["First Name", "first_name"]}
    ]


def test_audit_defaults_to_every_distinct_strategy():
    completed = run("audit", stdin=lines("userID", "user_i_d", "HTTPServer", "httpserver"))
    assert completed.returncode == 0, completed.stderr
    assert [json.loads(line) for line in completed.stdout.splitlines()] == [
        {"strategy": "to-snake-case", "normalized": "user_i_d", "names": ["userID", "user_i_d"]},
        {
            "strategy": "go-snakecase",
            "normalized": "httpserver",
            "names": ["HTTPServer", "httpserver"],
        },
    ]


# -- CleverTap's reserved keys: what the targets do, unless --no-reserved-keys -----------------

RESERVED_SAMPLE = ("Name", "Email", "Customer Type", "MSG-email", "Industry Of Traits")


def test_normalize_keeps_reserved_keys_like_the_targets():
    completed = run("normalize", stdin=lines(*RESERVED_SAMPLE))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        '"Name"\n"Email"\n"Customer Type"\n"MSG-email"\n"industry_of_traits"\n'
    )


def test_normalize_keeps_reserved_keys_with_every_strategy():
    completed = run(
        "normalize", "--strategy", "go-snakecase", stdin=lines("Customer Type", "MSG-push", "$add")
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == '"Customer Type"\n"MSG-push"\n"$add"\n'


def test_normalize_without_reserved_keys_rewrites_them():
    completed = run("normalize", "--no-reserved-keys", stdin=lines(*RESERVED_SAMPLE))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        '"name"\n"email"\n"customer_type"\n"msg_email"\n"industry_of_traits"\n'
    )


def test_audit_reports_no_collision_the_targets_cannot_produce():
    names = lines("Name", "name", "Email", "email", "Customer Type", "customer_type", "MSG-email")
    completed = run("audit", stdin=names)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""


def test_audit_still_reports_collisions_of_other_names():
    names = lines("Email", "email", "Industry Of Traits", "industry_of_traits")
    completed = run("audit", "--strategy", "segment", stdin=names)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        '{"strategy": "segment", "normalized": "industry_of_traits", '
        '"names": ["Industry Of Traits", "industry_of_traits"]}\n'
    )


def test_audit_without_reserved_keys_reports_them():
    names = lines("Email", "email", "MSG-email", "msg_email", "Industry Of Traits")
    completed = run("audit", "--strategy", "segment", "--no-reserved-keys", stdin=names)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        '{"strategy": "segment", "normalized": "email", "names": ["Email", "email"]}\n'
        '{"strategy": "segment", "normalized": "msg_email", "names": ["MSG-email", "msg_email"]}\n'
    )


def test_help_names_the_reserved_keys_switch():
    completed = run("normalize", "--help", stdin="")
    assert completed.returncode == 0
    assert "--no-reserved-keys" in completed.stdout
    assert "Customer Type" in completed.stdout
