"""The delivery journal: no event uploaded twice across runs, and honest handling of crashes."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from clevertap_segment_common.delivery import DeliveryError
from clevertap_testkit import record, run_target, schema, segment_messages
from hypothesis import example, given, settings
from hypothesis import strategies as st
from target_clevertap import journal as journal_module
from target_clevertap.journal import DeliveryJournal, JournalBusyError, Seen, entries_by_state

EVENTS = {"kind": "event", "identity": "user", "event_name": "Ping"}


def pings(count: int) -> list[dict]:
    return [
        schema("pings", {"user": {}, "n": {}}, ["n"]),
        *(record("pings", {"user": f"u-{n % 7}", "n": n}) for n in range(count)),
    ]


# -- the journal on its own -----------------------------------------------------------------------


def test_states_within_a_run_and_across_runs(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    first = DeliveryJournal(path, max_entries=100, max_age_days=1)
    a, b, c = b"a" * 16, b"b" * 16, b"c" * 16
    assert first.seen(a) is Seen.NEW
    send_a = first.mark_pending([a])
    first.mark_pending([b, c])
    assert first.seen(a) is Seen.IN_THIS_RUN
    first.mark_delivered([send_a], 1)
    first.forget([c])
    assert (first.seen(a), first.seen(b), first.seen(c)) == (
        Seen.DELIVERED,
        Seen.IN_THIS_RUN,
        Seen.NEW,
    )
    first.close()
    time.sleep(0.001)  # a later run gets a later run id

    second = DeliveryJournal(path, max_entries=100, max_age_days=1)
    assert (second.seen(a), second.seen(b), second.seen(c)) == (
        Seen.DELIVERED,
        Seen.UNCERTAIN,
        Seen.NEW,
    )
    assert (second.stats.entries_at_start, second.stats.pending_at_start) == (2, 1)
    second.close()


def test_entries_are_bounded_by_age_and_count(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    journal = DeliveryJournal(path, max_entries=100, max_age_days=1)
    sends = []
    for n in range(6):
        sends.append(journal.mark_pending([bytes([n]) * 16]))
        journal.mark_delivered([sends[-1]], 1)
    journal.close()
    # two sends from last week, the rest spread over today
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for n, send in enumerate(sends):
            age = 8 * 86400 if n < 2 else (6 - n) * 60
            db.execute("UPDATE sends SET at = ? WHERE id = ?", (time.time() - age, send))

    pruned = DeliveryJournal(path, max_entries=3, max_age_days=7)
    assert pruned.stats.pruned_at_start == 3  # 2 too old, then the oldest of the remaining 4
    assert [pruned.seen(bytes([n]) * 16) for n in range(6)] == [Seen.NEW] * 3 + [Seen.DELIVERED] * 3
    pruned.close()


def rows_on_disk(path) -> int:
    """Entries as another connection sees them (the journal's own counter is not trusted)."""
    return sum(entries_by_state(path).values())


def test_size_stays_bounded_within_one_run(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    journal = DeliveryJournal(path, max_entries=10, max_age_days=1)
    batches = [[bytes([n, k]) * 8 for k in range(3)] for n in range(20)]  # 60 uploads in all
    on_disk = []
    for batch in batches:
        journal.mark_delivered([journal.mark_pending(batch)], len(batch))
        on_disk.append(rows_on_disk(path))
    # 3, 6, 9 rows; then each send drops the oldest whole send(s) to fit the new one plus a tenth.
    assert on_disk == [3, 6, 9] + [9] * 17
    assert journal.stats.pruned_during_run == 60 - 9
    seen = [journal.seen(batch[0]) for batch in batches]
    assert seen == [Seen.NEW] * 17 + [Seen.DELIVERED] * 3
    journal.close()
    reopened = DeliveryJournal(path, max_entries=10, max_age_days=1)
    assert (reopened.stats.entries_at_start, reopened.stats.pruned_at_start) == (9, 0)
    reopened.close()


def test_pending_entries_are_never_pruned_during_a_run(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    crashed = DeliveryJournal(path, max_entries=4, max_age_days=1)
    uncertain = b"u" * 16
    crashed.mark_pending([uncertain])
    crashed.close()
    time.sleep(0.001)  # a later run gets a later run id

    journal = DeliveryJournal(path, max_entries=4, max_age_days=1)
    in_flight = b"p" * 16
    journal.mark_pending([in_flight])
    for n in range(30):
        journal.mark_delivered([journal.mark_pending([bytes([n]) * 16])], 1)
        assert rows_on_disk(path) <= 4
        assert journal.seen(uncertain) is Seen.UNCERTAIN
        assert journal.seen(in_flight) is Seen.IN_THIS_RUN
    assert journal.seen(bytes([29]) * 16) is Seen.DELIVERED
    assert journal.seen(bytes([0]) * 16) is Seen.NEW
    journal.close()


def test_pending_entries_beyond_the_bound_are_kept(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    journal = DeliveryJournal(path, max_entries=2, max_age_days=1)
    fingerprints = [bytes([n]) * 16 for n in range(5)]
    for fingerprint in fingerprints:
        journal.mark_pending([fingerprint])
    assert rows_on_disk(path) == 5
    assert [journal.seen(fp) for fp in fingerprints] == [Seen.IN_THIS_RUN] * 5
    journal.close()


def test_aged_deliveries_are_pruned_during_a_run(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    journal = DeliveryJournal(path, max_entries=100, max_age_days=7)
    old, fresh, in_flight = b"o" * 16, b"f" * 16, b"p" * 16
    old_send = journal.mark_pending([old])
    journal.mark_delivered([old_send], 1)
    journal.mark_delivered([journal.mark_pending([fresh])], 1)
    pending_send = journal.mark_pending([in_flight])
    with contextlib.closing(sqlite3.connect(path)) as db, db:  # both sent last week
        db.execute(
            "UPDATE sends SET at = ? WHERE id IN (?, ?)",
            (time.time() - 8 * 86400, old_send, pending_send),
        )
    journal._next_age_prune = 0.0  # the hourly check is due
    journal.mark_pending([b"n" * 16])
    assert journal.seen(old) is Seen.NEW
    assert journal.seen(fresh) is Seen.DELIVERED
    assert journal.seen(in_flight) is Seen.IN_THIS_RUN
    assert rows_on_disk(path) == 3
    assert journal.stats.pruned_during_run == 1
    journal.close()


def test_concurrent_writers_lose_nothing(tmp_path) -> None:
    journal = DeliveryJournal(tmp_path / "j.sqlite", max_entries=10**6, max_age_days=1)

    def write(lane: int) -> None:
        for batch in range(20):
            fps = [f"{lane}-{batch}-{i}".encode().ljust(16, b"_") for i in range(50)]
            send = journal.mark_pending(fps)
            journal.mark_delivered([send], len(fps))

    threads = [threading.Thread(target=write, args=(lane,)) for lane in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert journal.counts() == {"pending": 0, "delivered": 8 * 20 * 50}
    journal.close()


def _die_mid_run(path, script: str) -> None:
    """Run ``script`` on a journal at ``path`` in a process that dies without closing it."""
    code = (
        "import os, sys\n"
        "from target_clevertap.journal import DeliveryJournal\n"
        f"journal = DeliveryJournal(sys.argv[1], max_entries=1000, max_age_days=1)\n{script}\n"
        "os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], check=False)
    assert done.returncode == 9


def test_unfolded_sends_survive_a_crash(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    _die_mid_run(
        path,
        "d = journal.mark_pending([b'd' * 16, b'e' * 16])\n"
        "journal.mark_delivered([d], 2)\n"
        "journal.mark_pending([b'p' * 16, b'f' * 16])\n"
        "journal.forget([b'f' * 16, b'e' * 16])",
    )
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM uploads").fetchone() == (0,)  # none folded yet
    assert entries_by_state(path) == {"pending": 1, "delivered": 1}
    reopened = DeliveryJournal(path, max_entries=1000, max_age_days=1)
    assert [reopened.seen(c * 16) for c in (b"d", b"e", b"p", b"f")] == [
        Seen.DELIVERED,
        Seen.NEW,
        Seen.UNCERTAIN,
        Seen.NEW,
    ]
    assert reopened.counts() == {"pending": 1, "delivered": 1}
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM send_fingerprints").fetchone() == (0,)
    reopened.close()


def test_folds_keep_every_state_and_the_newest_send(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(journal_module, "FOLD_ENTRIES", 5)
    path = tmp_path / "j.sqlite"
    journal = DeliveryJournal(path, max_entries=1000, max_age_days=1)
    delivered = [bytes([1, n]) * 8 for n in range(12)]
    pending = [bytes([2, n]) * 8 for n in range(12)]
    twice = b"t" * 16
    for n in range(0, 12, 3):
        journal.mark_delivered([journal.mark_pending(delivered[n : n + 3])], 3)
        journal.mark_pending(pending[n : n + 3])
    journal.mark_pending([twice])  # pending in an earlier send ...
    journal.mark_delivered([journal.mark_pending([twice])], 1)  # ... delivered in a later one
    journal.forget([pending[0], pending[11]])  # one folded long ago, one not yet
    with contextlib.closing(sqlite3.connect(path)) as db:
        (folded,) = db.execute("SELECT count(*) FROM uploads").fetchone()
    assert 0 < folded < 24  # some folded, some not
    expected = (
        [Seen.DELIVERED] * 12 + [Seen.NEW] + [Seen.IN_THIS_RUN] * 10 + [Seen.NEW, Seen.DELIVERED]
    )
    assert [journal.seen(fp) for fp in (*delivered, *pending, twice)] == expected
    assert entries_by_state(path) == {"pending": 10, "delivered": 13}
    journal.close()
    time.sleep(0.001)  # a later run gets a later run id
    reopened = DeliveryJournal(path, max_entries=1000, max_age_days=1)
    expected = [Seen.DELIVERED] * 12 + [Seen.NEW] + [Seen.UNCERTAIN] * 10 + [Seen.NEW]
    assert [reopened.seen(fp) for fp in (*delivered, *pending)] == expected
    assert reopened.seen(twice) is Seen.DELIVERED
    assert reopened.counts() == {"pending": 10, "delivered": 13}
    reopened.close()


_POOL = [bytes([n]) * 16 for n in range(6)]
_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.lists(st.sampled_from(_POOL), min_size=1, max_size=4)),
        st.tuples(st.just("deliver"), st.integers(0, 20)),
        st.tuples(st.just("forget"), st.lists(st.sampled_from(_POOL), min_size=1, max_size=3)),
        st.tuples(st.just("reopen"), st.booleans()),  # True: the run died (nothing folded)
    ),
    max_size=40,
)


def _modelled(send: int | None, delivered: set[int], sends_of_run: set[int]) -> Seen:
    if send is None:
        return Seen.NEW
    if send in delivered:
        return Seen.DELIVERED
    return Seen.IN_THIS_RUN if send in sends_of_run else Seen.UNCERTAIN


_X = _POOL[0]


@settings(max_examples=300, deadline=None)
@given(operations=_OPERATIONS)
# the newest send of a fingerprint sent twice decides
@example([("send", [_X]), ("send", [_X]), ("deliver", 0)])
# refused after it was sent twice: neither unfolded send may keep it through a kill
@example([("send", [_X]), ("send", [_X]), ("forget", [_X]), ("reopen", True)])
def test_the_journal_answers_as_a_plain_model_does(operations) -> None:
    """Random sends, confirmations, refusals, restarts and crashes with folds every 3 uploads.

    The model: each fingerprint belongs to the last send that carried it (until forgotten), and
    a send is pending or delivered; ``seen`` and ``counts`` must agree with it at every step.
    """
    model: dict[bytes, int] = {}
    delivered: set[int] = set()
    sends_of_run: set[int] = set()
    sends: list[int] = []
    with tempfile.TemporaryDirectory() as directory, pytest.MonkeyPatch.context() as patch:
        patch.setattr(journal_module, "FOLD_ENTRIES", 3)
        path = Path(directory) / "j.sqlite"
        journal = DeliveryJournal(path, max_entries=10_000, max_age_days=1)
        for operation, argument in operations:
            if operation == "send":
                send = journal.mark_pending(argument)
                assert send is not None
                sends.append(send)
                sends_of_run.add(send)
                delivered.discard(send)  # the id of a send dropped at a restart comes back
                model.update(dict.fromkeys(argument, send))
            elif operation == "deliver" and sends:
                send = sends[argument % len(sends)]
                journal.mark_delivered([send], 1)
                delivered.add(send)
            elif operation == "forget":
                journal.forget(argument)
                for fingerprint in argument:
                    model.pop(fingerprint, None)
            elif operation == "reopen":
                if argument:  # killed: no fold, no checkpoint, the OS drops the lock
                    journal._close_db()
                    journal._release_lock()
                else:
                    journal.close()
                time.sleep(0.001)  # a later run gets a later run id
                journal = DeliveryJournal(path, max_entries=10_000, max_age_days=1)
                sends_of_run = set()

            expected = [_modelled(model.get(fp), delivered, sends_of_run) for fp in _POOL]
            assert [journal.seen(fp) for fp in _POOL] == expected
            pending = sum(1 for send in model.values() if send not in delivered)
            assert entries_by_state(path) == {
                "pending": pending,
                "delivered": len(model) - pending,
            }
        assert journal.counts() == entries_by_state(path)
        journal.close()


def test_one_run_at_a_time_per_journal(tmp_path) -> None:
    first = DeliveryJournal(tmp_path / "j.sqlite", max_entries=10, max_age_days=1)
    with pytest.raises(JournalBusyError, match="its own journal_path"):
        DeliveryJournal(tmp_path / "j.sqlite", max_entries=10, max_age_days=1)
    first.close()
    DeliveryJournal(tmp_path / "j.sqlite", max_entries=10, max_age_days=1).close()


def test_journal_uses_wal(tmp_path) -> None:
    DeliveryJournal(tmp_path / "j.sqlite", max_entries=10, max_age_days=1).close()
    with contextlib.closing(sqlite3.connect(tmp_path / "j.sqlite")) as db, db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# -- the journal in runs --------------------------------------------------------------------------


def test_rerun_uploads_no_event_twice(config, sandbox_client) -> None:
    config["stream_mappings"] = {"pings": EVENTS}
    run_target(config, pings(60))
    again = run_target(config, pings(60))
    assert len(sandbox_client.clevertap_uploaded_events()) == 60
    assert sandbox_client.clevertap_stats()["uploads"]["duplicate_events"] == 0
    assert again.summary["skipped_by_reason"] == {"already_delivered": 60}
    assert again.summary["requests"] == 0


def test_rerun_of_segment_archive_skips_events_and_counter_updates(config, sandbox_client) -> None:
    config["stream_mappings"] = {"segment": {"preset": "segment"}}
    run_target(config, segment_messages())
    again = run_target(config, segment_messages())
    assert len(sandbox_client.clevertap_uploaded_events()) == 16
    sven = next(p for p in sandbox_client.clevertap_profiles() if p["identity"] == "u-1007")
    assert sven["profileData"]["Loyalty Points"] == 150  # {"$incr": 150} applied once
    assert again.summary["skipped_by_reason"] == {
        "already_delivered": 17,  # 16 events and one $incr update
        "integrations_opt_out": 2,
    }
    assert again.summary["uploaded_profiles"] == 5  # plain profile upserts are idempotent


def test_identical_records_in_one_run_are_sent_once(config, sandbox_client) -> None:
    config["stream_mappings"] = {"pings": {**EVENTS}}
    ping = {"user": "u-1", "n": 1}
    run = run_target(config, [schema("pings", {"user": {}, "n": {}}), *[record("pings", ping)] * 3])
    assert len(sandbox_client.clevertap_uploaded_events()) == 1
    assert run.summary["skipped_by_reason"] == {"duplicate_in_this_run": 2}


def test_same_content_with_different_keys_is_not_a_duplicate(config, sandbox_client) -> None:
    config["stream_mappings"] = {
        "clicks": {"kind": "event", "identity": "user", "event_name": "Click", "exclude": ["id"]}
    }
    clicks = [{"id": n, "user": "u-1"} for n in range(3)]
    run_target(
        config,
        [schema("clicks", {"id": {}, "user": {}}, ["id"]), *(record("clicks", c) for c in clicks)],
    )
    assert len(sandbox_client.clevertap_uploaded_events()) == 3


def test_refused_records_are_forgotten_and_sent_again_later(config, sandbox_client) -> None:
    config["stream_mappings"] = {
        "pings": {"kind": "event", "object_id": "user", "event_name": "Ping"}
    }
    messages = [schema("pings", {"user": {}}), record("pings", {"user": "not valid!"})]
    first = run_target(config, messages)
    again = run_target(config, messages)
    assert first.rejects[0]["code"] == 526
    assert [r["code"] for r in again.rejects] == [526, 526]  # file is appended to
    assert len(sandbox_client.clevertap_upload_log()) == 2


def _pretend_last_run_died_mid_upload(path: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE sends SET state = 0, run = run - 1")


def test_uncertain_records_are_rejected_by_default(config, sandbox_client) -> None:
    config["stream_mappings"] = {"pings": EVENTS}
    run_target(config, pings(10))
    _pretend_last_run_died_mid_upload(config["journal_path"])
    again = run_target(config, pings(10))
    assert len(sandbox_client.clevertap_uploaded_events()) == 10
    assert [r["rule"] for r in again.rejects] == ["delivery_uncertain"] * 10
    assert again.summary["journal"]["uncertain_at_start"] == 10


def test_uncertain_records_can_be_resent(config, sandbox_client) -> None:
    config["stream_mappings"] = {"pings": EVENTS}
    run_target(config, pings(10))
    _pretend_last_run_died_mid_upload(config["journal_path"])
    config["journal_uncertain"] = "resend"
    again = run_target(config, pings(10))
    assert len(sandbox_client.clevertap_uploaded_events()) == 20  # at-least-once: doubled
    assert again.summary["journal"]["uncertain_resent"] == 10
    assert again.summary["journal"]["pending"] == 0


def test_uncertain_records_can_stop_the_run(config, sandbox_client) -> None:
    config["stream_mappings"] = {"pings": EVENTS}
    run_target(config, pings(3))
    _pretend_last_run_died_mid_upload(config["journal_path"])
    config["journal_uncertain"] = "fail"
    with pytest.raises(RuntimeError, match="journal_uncertain is 'fail'"):
        run_target(config, pings(3))
    assert len(sandbox_client.clevertap_uploaded_events()) == 3


def test_journal_can_be_disabled(config, sandbox_client, tmp_path) -> None:
    config.update(stream_mappings={"pings": EVENTS}, journal_enabled=False)
    run_target(config, pings(5))
    run_target(config, pings(5))
    assert len(sandbox_client.clevertap_uploaded_events()) == 10
    assert not (tmp_path / "journal.sqlite").exists()


def test_a_run_refused_with_401_leaves_nothing_uncertain(config, sandbox_client) -> None:
    # An explicit convention: the upload itself gets the 401 (match_account would stop earlier).
    config.update(stream_mappings={"pings": EVENTS}, property_names="none")
    with pytest.raises(DeliveryError, match="HTTP 401"):
        run_target({**config, "passcode": "not-the-passcode"}, pings(20))
    again = run_target(config, pings(20))
    assert len(sandbox_client.clevertap_uploaded_events()) == 20
    assert again.rejects == []
    assert again.summary["journal"]["uncertain_at_start"] == 0
