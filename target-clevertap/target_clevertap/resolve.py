"""``target-clevertap-resolve``: settle the events a run left in doubt, by asking CleverTap.

An event is in doubt (rule ``delivery_uncertain`` in the rejected-records output) when its upload
went out and no answer came back: a read timeout, a connection reset after the whole request was
sent, a run killed mid-upload. CleverTap has no idempotency key and no per-event lookup, so the
only source that can say whether it stored an event is the Get Events export (docs/clevertap-api.md,
"Export APIs"): every event of one name over whole days of the project's timezone, each with the
profile's identity, a packed ``yyyyMMddHHmmss`` time in that timezone and the event properties.

For every event in doubt this command exports its event name over its day and decides:

* ``stored``: a record of the same profile, second and properties is there. The journal marks the
  upload delivered, so a re-run skips it.
* ``absent``: nothing of that profile at that time, and the upload is older than the settle delay
  (how soon an upload shows in the export is not documented). With ``--resend-absent`` it is sent
  again (journaled as usual) and counted ``absent_resent``; without, it is listed.
* ``unknown``: the export failed, the upload is too recent, or a record of the same profile at the
  same second (or a whole number of quarter hours away: a wrong ``account_timezone``) has other
  values - CleverTap may have stored it changed. Never sent again; listed.

Stored and absent are only ever concluded from what the export shows; a wrong account timezone
turns matches into ``unknown``, never into ``absent``. Events already resolved by an earlier run
of this command (the journal says delivered) are counted ``already_resolved``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import time
import typing as t
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from clevertap_segment_common.clevertap_account import account_timezone
from clevertap_segment_common.delivery import DeliveryEngine, Item, Rejection
from clevertap_segment_common.delivery.retry import RetryPolicy

from target_clevertap.event_export import EventExport, ExportError
from target_clevertap.journal import DeliveryJournal, JournalPolicy, Seen
from target_clevertap.rules import DELIVERY_UNCERTAIN

if t.TYPE_CHECKING:
    import zoneinfo
    from collections.abc import Iterable, Sequence

    from target_clevertap.target import TargetCleverTap

logger = logging.getLogger("target-clevertap-resolve")

#: Default settle delay: an absent upload younger than this may simply not be exported yet.
SETTLE_MINUTES = 60.0
_IDENTITY_KEYS = ("identity", "objectId")
_QUARTER_HOUR = 900
_MAX_OFFSET_SECONDS = 14 * 3600


@dataclass
class InDoubt:
    """One upload in doubt, as the rejected-records output holds it."""

    line: dict[str, t.Any]
    upload: dict[str, t.Any]
    payload: bytes
    fingerprint: bytes | None
    sent_at: float
    outcome: str = "unknown"
    why: str = ""


@dataclass
class Resolution:
    """Counts of the run, and the uploads still to be decided by someone."""

    in_doubt: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    open: list[InDoubt] = field(default_factory=list)

    def report(self, unresolved_path: Path) -> dict[str, t.Any]:
        """The JSON printed at the end."""
        outcomes = ("already_resolved", "stored", "absent_resent", "absent", "refused", "unknown")
        return {
            "in_doubt": self.in_doubt,
            **{name: self.outcomes.get(name, 0) for name in outcomes},
            "unresolved_path": str(unresolved_path) if self.open else None,
        }


def read_in_doubt(path: Path) -> tuple[list[InDoubt], int]:
    """Uploads in doubt in a rejected-records file, once each; and lines without an upload."""
    found: dict[bytes, InDoubt] = {}
    without_upload = 0
    with path.open("rb") as lines:
        for raw in lines:
            line = orjson.loads(raw)
            if line.get("rule") != DELIVERY_UNCERTAIN.name or line.get("kind") != "rejected_record":
                continue
            upload = line.get("upload")
            if not isinstance(upload, dict) or upload.get("type") != "event":
                without_upload += 1
                continue
            payload = orjson.dumps(upload, option=orjson.OPT_SORT_KEYS)
            fingerprint = bytes.fromhex(line["fingerprint"]) if line.get("fingerprint") else None
            sent_at = dt.datetime.fromisoformat(line["rejected_at"]).timestamp()
            found.setdefault(
                fingerprint or payload, InDoubt(line, upload, payload, fingerprint, sent_at)
            )
    return list(found.values()), without_upload


def packed_epoch(packed: t.Any, tz: zoneinfo.ZoneInfo) -> int | None:
    """Epoch seconds of an exported ``ts`` (yyyyMMddHHmmss in the project's timezone)."""
    try:
        text = str(int(packed))
        moment = dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=tz)
    except (TypeError, ValueError):
        return None
    return int(moment.timestamp())


def same_value(sent: t.Any, exported: t.Any) -> bool:
    """Whether an exported property value is the one uploaded.

    Dates go up as ``$D_<epoch>``; how the export shows them is not documented, so any form that
    carries the same epoch counts. Booleans may come back as text.
    """
    if isinstance(sent, str) and sent.startswith("$D_") and sent[3:].isdigit():
        epoch = int(sent[3:])
        if isinstance(exported, dict):
            return any(same_value(sent, value) for value in exported.values())
        return exported == sent or (
            not isinstance(exported, bool) and exported in (epoch, str(epoch))
        )
    if isinstance(sent, bool) or isinstance(exported, bool):
        return str(sent).lower() == str(exported).lower()
    if isinstance(sent, dict):
        return (
            isinstance(exported, dict)
            and sent.keys() == exported.keys()
            and all(same_value(value, exported[key]) for key, value in sent.items())
        )
    if isinstance(sent, list):
        return (
            isinstance(exported, list)
            and len(sent) == len(exported)
            and all(same_value(a, b) for a, b in zip(sent, exported, strict=True))
        )
    return bool(sent == exported)


def _who(document: t.Mapping[str, t.Any]) -> tuple[str, str] | None:
    for key in _IDENTITY_KEYS:
        value = document.get(key)
        if value not in (None, ""):
            return key, str(value)
    return None


def _local_day(epoch: float, tz: zoneinfo.ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(epoch, tz).date()


def day_ranges(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days merged into (first, last) ranges: one export each."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if ranges and (day - ranges[-1][1]).days <= 1:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


class Resolver:
    """Looks for uploads in doubt in the export and settles them (see the module docstring)."""

    def __init__(
        self,
        target: TargetCleverTap,
        *,
        tz: zoneinfo.ZoneInfo,
        settle_seconds: float,
        resend_absent: bool,
    ) -> None:
        self.target = target
        self.tz = tz
        self.settle_seconds = settle_seconds
        self.resend_absent = resend_absent
        config = target.config
        self.export = EventExport(
            target.endpoint.base_url,
            account_id=target.account_id,
            passcode=str(config["passcode"]),
            timeout=float(config["request_timeout"]),
            max_retries=int(config["max_retries"]),
        )
        self.journal: DeliveryJournal | None = None
        if config["journal_enabled"]:
            self.journal = DeliveryJournal(
                config["journal_path"],
                max_entries=int(config["journal_max_entries"]),
                max_age_days=float(config["journal_max_age_days"]),
            )

    def resolve(self, in_doubt: list[InDoubt]) -> Resolution:
        """Decide every upload, mark the stored ones, send the absent ones again if asked."""
        result = Resolution(in_doubt=len(in_doubt))
        pending = [item for item in in_doubt if not self._already_resolved(item)]
        by_name: dict[str, list[InDoubt]] = defaultdict(list)
        for item in pending:
            by_name[str(item.upload.get("evtName"))].append(item)
        for name, items in sorted(by_name.items()):
            self._look_up(name, items)
        stored = [item for item in pending if item.outcome == "stored"]
        if self.journal is not None and stored:
            self.journal.record_delivered([item.fingerprint for item in stored if item.fingerprint])
        absent = [item for item in pending if item.outcome == "absent"]
        if self.resend_absent and absent:
            self._send_again(absent)
        for item in in_doubt:
            result.outcomes[item.outcome] = result.outcomes.get(item.outcome, 0) + 1
            if item.outcome in ("absent", "unknown", "refused"):
                result.open.append(item)
        return result

    def close(self) -> None:
        """Close the journal."""
        if self.journal is not None:
            self.journal.close()

    def _already_resolved(self, item: InDoubt) -> bool:
        if self.journal is None or item.fingerprint is None:
            return False
        if self.journal.seen(item.fingerprint) is Seen.DELIVERED:
            item.outcome, item.why = "already_resolved", "the journal says CleverTap has it"
            return True
        return False

    def _look_up(self, name: str, items: list[InDoubt]) -> None:
        """Export ``name`` over the days of ``items`` and match each against it."""
        today = dt.datetime.now(self.tz).date()
        days = []
        exportable = []
        for item in items:
            ts = item.upload.get("ts")
            day = _local_day(ts if isinstance(ts, int) else item.sent_at, self.tz)
            if day > today:
                item.why = "its day has not begun in the project's timezone (not exportable yet)"
                continue
            exportable.append(item)
            days += [day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)]
        if not exportable:
            return
        exported: dict[tuple[str, str], list[tuple[int | None, dict[str, t.Any]]]] = defaultdict(
            list
        )
        try:
            for first, last in day_ranges(day for day in days if day <= today):
                span = (int(first.strftime("%Y%m%d")), int(last.strftime("%Y%m%d")))
                for record in self.export.records(name, *span):
                    profile = record.get("profile") or {}
                    moment = packed_epoch(record.get("ts"), self.tz)
                    props = record.get("event_props") or {}
                    for key in _IDENTITY_KEYS:
                        if profile.get(key) not in (None, ""):
                            exported[(key, str(profile[key]))].append((moment, props))
        except ExportError as exc:
            for item in exportable:
                item.why = f"the export of {name!r} failed: {exc}"
            return
        now = time.time()
        for item in exportable:
            self._decide(item, exported, now)

    def _decide(
        self,
        item: InDoubt,
        exported: dict[tuple[str, str], list[tuple[int | None, dict[str, t.Any]]]],
        now: float,
    ) -> None:
        who = _who(item.upload)
        if who is None:
            item.why = "the upload names no identity or objectId to look for"
            return
        ts = item.upload.get("ts")
        data = item.upload.get("evtData") or {}
        candidates = exported.get(who, [])
        near = False
        for index, (moment, props) in enumerate(candidates):
            same_time = ts is None or moment == ts
            shifted = (
                isinstance(ts, int)
                and moment is not None
                and moment != ts
                and abs(moment - ts) <= _MAX_OFFSET_SECONDS
                and (moment - ts) % _QUARTER_HOUR == 0
            )
            matches = all(key in props and same_value(v, props[key]) for key, v in data.items())
            if same_time and matches:
                del candidates[index]  # one exported record settles one upload
                item.outcome, item.why = "stored", "found in CleverTap's export"
                return
            near = near or (same_time and not matches) or (shifted and matches)
        if near:
            item.why = (
                "CleverTap has an event of this profile at this time with other values (or at a "
                "whole number of quarter hours away: check account_timezone)"
            )
        elif now - item.sent_at < self.settle_seconds:
            item.why = (
                f"not in the export yet, but sent {int(now - item.sent_at)} s ago (settle delay "
                f"{int(self.settle_seconds)} s): run again later"
            )
        else:
            item.outcome, item.why = "absent", "not in CleverTap's export"

    def _send_again(self, absent: list[InDoubt]) -> None:
        """Upload the absent events once more through the target's delivery engine."""
        journal = (
            JournalPolicy(self.journal, uncertain="reject", count_skipped=lambda _: None)
            if self.journal is not None
            else None
        )
        by_item: dict[int, InDoubt] = {}

        def delivered(items: Sequence[Item]) -> None:
            for item in items:
                by_item[id(item)].outcome = "absent_resent"
            if journal is not None:
                journal.delivered(items)

        def rejected(item: Item, rejection: Rejection) -> None:
            doubt = by_item[id(item)]
            if rejection.rule == DELIVERY_UNCERTAIN.name:
                doubt.outcome, doubt.why = (
                    "unknown",
                    f"sent again, in doubt again: {rejection.reason}",
                )
            else:
                doubt.outcome, doubt.why = "refused", f"sent again: {rejection.reason}"
                if journal is not None:
                    journal.forget([item])

        config = self.target.config
        engine = DeliveryEngine(
            self.target.build_transport(),
            max_concurrency=int(config["max_concurrency"]),
            batch_items=int(config["batch_size_rows"]),
            on_delivered=delivered,
            on_rejected=rejected,
            before_send=journal.before_send if journal else None,
            unsafe_to_resend=journal.unsafe_to_resend if journal else None,
            resend_hint="run target-clevertap-resolve again",
            retry=RetryPolicy(max_retries=int(config["max_retries"])),
            timeout=float(config["request_timeout"]),
            connection_idle_seconds=float(config["connection_idle_seconds"]),
            logger=logger,
        )
        try:
            for doubt in absent:
                meta: dict[str, t.Any] = {"kind": "event"}
                if doubt.fingerprint is not None:
                    meta["fingerprint"] = doubt.fingerprint
                key = _who(doubt.upload)
                item = Item(
                    doubt.payload,
                    str(doubt.line.get("stream")),
                    doubt.line.get("record") or {},
                    key[1] if key else None,
                    meta,
                )
                by_item[id(item)] = doubt
                engine.submit(item)
            engine.wait_idle()
        except Exception as exc:  # a failed resend leaves them in doubt, as they were
            for doubt in absent:
                if doubt.outcome == "absent":
                    doubt.outcome, doubt.why = "unknown", f"sending again failed: {exc}"
        finally:
            engine.close()


def write_open(path: Path, items: Sequence[InDoubt]) -> None:
    """The uploads still to decide, as their rejected-records lines plus the outcome and why."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for item in items:
            line = {**item.line, "resolution": item.outcome, "resolution_reason": item.why}
            out.write(orjson.dumps(line) + b"\n")


#: Where ``--config ENV`` looks: the plugin's own variables, then the ones Meltano sets for any
#: loader (``meltano invoke target-clevertap:resolve-uncertain`` sets both).
ENV_PREFIXES = ("TARGET_CLEVERTAP_", "MELTANO_LOAD_")


def environment_config(schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """Settings from environment variables, typed by the config schema (JSON for non-strings).

    Object settings (stream_mappings, stream_maps) are left out: nothing here needs them, and
    Meltano writes nested keys flattened ("stream.preset") into its variables.
    """
    config: dict[str, t.Any] = {}
    for name, spec in schema["properties"].items():
        kinds = spec.get("type", "string")
        if kinds == "object" or (isinstance(kinds, list) and "object" in kinds):
            continue
        for prefix in ENV_PREFIXES:
            raw = os.environ.get(prefix + name.upper())
            if raw is None:
                continue
            textual = kinds == "string" or (isinstance(kinds, list) and "string" in kinds)
            config[name] = raw if textual else json.loads(raw)
            break
    return config


def _config(paths: Sequence[str], schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """Merged JSON config files, in order; ``ENV`` stands for the environment's settings."""
    config: dict[str, t.Any] = {}
    for path in paths:
        config.update(
            environment_config(schema) if path == "ENV" else json.loads(Path(path).read_text())
        )
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``target-clevertap-resolve``."""
    from singer_sdk.exceptions import ConfigValidationError

    from target_clevertap.target import TargetCleverTap  # the SDK only once arguments are read

    parser = argparse.ArgumentParser(
        prog="target-clevertap-resolve",
        description="Look for the events target-clevertap left in doubt (rule "
        "delivery_uncertain) in CleverTap's event export: mark the stored ones delivered in the "
        "journal, list (or with --resend-absent send again) the absent ones.",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="target-clevertap's config file (repeatable), or ENV: TARGET_CLEVERTAP_* variables.",
    )
    parser.add_argument(
        "--rejects", help="Rejected-records file to read [default: rejected_records_path]."
    )
    parser.add_argument(
        "--account-timezone",
        help="The CleverTap project's timezone (dashboard settings), in which the export gives "
        "event times [default: setting account_timezone].",
    )
    parser.add_argument(
        "--settle-minutes",
        type=float,
        default=SETTLE_MINUTES,
        help="An upload younger than this that the export does not show stays unknown "
        "(how soon uploads are exported is not documented). [default: %(default)s]",
    )
    parser.add_argument(
        "--resend-absent",
        action="store_true",
        help="Send absent events again. Off by default: it trusts the export to be complete once "
        "the settle delay has passed, which CleverTap does not document.",
    )
    parser.add_argument(
        "--unresolved",
        help="Where to write the events still to decide [default: <rejects>.unresolved.jsonl].",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        target = TargetCleverTap(config=_config(args.config, TargetCleverTap.config_jsonschema))
    except ConfigValidationError as exc:
        parser.error(f"the configuration is not valid: {'; '.join(exc.errors) or exc}")
    zone_name = args.account_timezone or target.config.get("account_timezone")
    if not zone_name:
        parser.error(
            "the CleverTap project's timezone is needed to read exported event times: set "
            "account_timezone or pass --account-timezone (e.g. Asia/Kolkata)"
        )
    if args.resend_absent and target.config.get("dry_run"):
        parser.error(
            "--resend-absent with dry_run set would count events as sent again that CleverTap "
            "never stores; unset dry_run (or leave out --resend-absent to only look)"
        )
    tz = account_timezone(str(zone_name))
    rejects = Path(args.rejects) if args.rejects else target.rejects.path
    in_doubt, without_upload = read_in_doubt(rejects) if rejects.exists() else ([], 0)
    if without_upload:
        logger.warning(
            "%d delivery_uncertain line(s) in %s carry no upload (written by an older version, "
            "or profile updates): not checked.",
            without_upload,
            rejects,
        )
    resolver = Resolver(
        target,
        tz=tz,
        settle_seconds=args.settle_minutes * 60,
        resend_absent=args.resend_absent,
    )
    try:
        result = resolver.resolve(in_doubt)
    finally:
        resolver.close()
    unresolved = Path(args.unresolved or f"{rejects.with_suffix('')}.unresolved.jsonl")
    if result.open:
        write_open(unresolved, result.open)
    elif unresolved.exists():
        os.remove(unresolved)
    report = {**result.report(unresolved), "not_checked": without_upload}
    logger.info("Resolution of %s: %s", rejects, json.dumps(report))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
