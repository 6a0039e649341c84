"""An account in America/New_York across the end of DST (2026-11-01 02:00 EDT -> 01:00 EST).

Epochs and expected local times are written out by hand (checked with GNU `date`), so a
sandbox that used a fixed offset, UTC or the wrong side of the fold would fail.
"""

from __future__ import annotations

from typing import Any

# (epoch seconds, the packed local ts an export must show, the account day it belongs to)
CASES = [
    (1793419200, 20261031000000, 20261031),  # 2026-10-31 04:00 UTC = 00:00 EDT
    (1793505599, 20261031235959, 20261031),  # 2026-11-01 03:59:59 UTC = 23:59:59 EDT, Oct 31
    (1793507400, 20261101003000, 20261101),  # 2026-11-01 04:30 UTC = 00:30 EDT
    (1793511000, 20261101013000, 20261101),  # 2026-11-01 05:30 UTC = 01:30 EDT (first 01:30)
    (1793514600, 20261101013000, 20261101),  # 2026-11-01 06:30 UTC = 01:30 EST (second 01:30)
    (1793593800, 20261101233000, 20261101),  # 2026-11-02 04:30 UTC = 23:30 EST (00:30 in EDT)
    (1793595600, 20261102000000, 20261102),  # 2026-11-02 05:00 UTC = 00:00 EST
]


def test_exports_use_the_account_timezone_across_a_dst_change(
    sandbox_factory: Any, caller_for: Any
) -> None:
    sandbox = sandbox_factory(timezone="America/New_York", today="2026-11-05", days=7)
    clevertap = caller_for(sandbox)
    uploads = [
        {
            "type": "event",
            "identity": "tz-1",
            "ts": epoch,
            "evtName": "Door Opened",
            "evtData": {"n": number},
        }
        for number, (epoch, _, _) in enumerate(CASES)
    ]
    assert clevertap.upload(uploads).json()["status"] == "success"

    for day in (20261031, 20261101, 20261102):
        records = clevertap.export("Door Opened", day, day)
        expected = [(n, ts) for n, (_, ts, on) in enumerate(CASES) if on == day]
        assert [(r["event_props"]["n"], r["ts"]) for r in records] == expected, day

    whole = clevertap.export("Door Opened", 20261030, 20261104)
    assert [r["ts"] for r in whole] == [ts for _, ts, _ in CASES]
    assert clevertap.export("Door Opened", 20261103, 20261104) == []
