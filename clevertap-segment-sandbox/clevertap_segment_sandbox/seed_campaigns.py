"""Seeded campaigns (targets) and message reports, spread over the history and the near future."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from clevertap_segment_sandbox.clock import yyyymmdd
from clevertap_segment_sandbox.prng import Stream, key64

CHANNELS = ("push", "email", "sms", "inapp", "webhooks")
DELIVERIES = ("one_time", "recurring", "action", "api")
MESSAGE_TYPES = ("single", "ab")
THEMES = ("Weekend Promo", "Payday Deal", "Welcome Series", "Cart Reminder", "Festive Drop")

# How /1/targets/result.json answers for a campaign that has no report (docs/clevertap-api.md §3.7,
# three forms observed live). Which status gets which form is the sandbox's choice.
REPORT_FORMS = {
    "completed": "result",
    "running": "no_result_yet_500",
    "stopped": "conflict_409",
    "scheduled": "not_completed_200",
}


@dataclass(frozen=True)
class Campaign:
    """One API campaign; its status follows the account clock like a real campaign's.

    Scheduled until its start day, running through `ends_on`, completed after (unless stopped),
    so moving the sandbox's "today" forward completes campaigns and their reports appear.
    """

    id: int
    name: str
    scheduled_on: date
    ends_on: date
    stopped: bool
    channel: str
    sent: int

    def status(self, today: date) -> str:
        """The status (scheduled, running, stopped, completed) as seen on `today`."""
        if today <= self.scheduled_on:
            return "scheduled"
        if self.stopped:
            return "stopped"
        return "running" if today <= self.ends_on else "completed"

    def report_form(self, today: date) -> str:
        """Which of the report answers this campaign gives on `today`."""
        return REPORT_FORMS[self.status(today)]

    def listing(self, today: date) -> dict[str, Any]:
        """The entry in /1/targets/list.json."""
        return {
            "id": self.id,
            "name": self.name,
            "scheduled_on": yyyymmdd(self.scheduled_on),
            "status": self.status(today),
            "channel": self.channel,
        }

    def result(self) -> dict[str, Any]:
        """The body of a completed campaign's report."""
        viewed = self.sent * 7 // 10
        clicked = viewed // 5
        return {
            "sent": self.sent,
            "viewed": viewed,
            "clicked": clicked,
            "converted": clicked // 3,
            "errors": self.sent // 50,
        }


def seed_campaigns(seed: int, start_today: date, first_day: date) -> tuple[Campaign, ...]:
    """About twenty campaigns from a month before the history to a month after today.

    On the start-up day past campaigns are mostly completed, some still running or stopped;
    future ones are scheduled. Every status (so every report form) occurs for every seed.
    """
    stream = Stream(key64(seed, "campaigns"))
    durations = Stream(key64(seed, "campaign-durations"))  # separate: keeps ids/dates stable
    campaigns = []
    start = first_day - timedelta(days=30)
    span = (start_today - start).days + 30
    base_id = 1_700_000_000 + stream.below(50_000_000)
    for index in range(20):
        scheduled = start + timedelta(days=index * span // 20 + stream.below(2))
        future = scheduled >= start_today
        running = not future and index % 7 == 3
        if running:
            ends = start_today + timedelta(days=2 + durations.below(5))
        else:  # past campaigns ended before start-up; future ones run a few days once started
            ends = scheduled + timedelta(days=1 + durations.below(3))
            if not future:
                ends = max(min(ends, start_today - timedelta(days=1)), scheduled)
        theme = THEMES[index % len(THEMES)]
        channel = stream.choice(CHANNELS)
        sent = 500 + (durations.below(20_000) if future else stream.below(20_000))
        campaigns.append(
            Campaign(
                id=base_id + index * 7919,
                name=f"{theme} #{index + 1}",
                scheduled_on=scheduled,
                ends_on=ends,
                stopped=not future and index % 7 == 5,
                channel=channel,
                sent=sent,
            )
        )
    return tuple(campaigns)


@dataclass(frozen=True)
class Message:
    """One sent (or scheduled) message for /1/message/report.json."""

    id: int
    name: str
    start: date
    days: int
    channel: str
    delivery: str
    status: str
    message_type: str
    labels: tuple[str, ...]
    daily_sent: int

    def report(self, first: date, last: date, daily: bool) -> list[dict[str, Any]]:
        """Aggregate row, or one row per day of the message inside the window."""
        stats_days = [
            self.start + timedelta(days=i)
            for i in range(self.days)
            if first <= self.start + timedelta(days=i) <= last
        ]
        base = {
            "message id": self.id,
            "message name": self.name,
            "channel": self.channel,
            "delivery": self.delivery,
            "status": self.status,
            "message_type": self.message_type,
            "label": list(self.labels),
            "start_date": yyyymmdd(self.start),
        }
        if not daily:
            sent = self.daily_sent * self.days
            return [{**base, **_counts(sent)}]
        return [{**base, "date": yyyymmdd(day), **_counts(self.daily_sent)} for day in stats_days]


def _counts(sent: int) -> dict[str, int]:
    viewed = sent * 6 // 10
    return {"sent": sent, "viewed": viewed, "clicked": viewed // 4}


def seed_messages(seed: int, start_today: date, first_day: date) -> tuple[Message, ...]:
    """About fifteen messages across the history; recurring ones last several days."""
    stream = Stream(key64(seed, "messages"))
    messages = []
    span = max((start_today - first_day).days, 1)
    for index in range(15):
        delivery = DELIVERIES[index % len(DELIVERIES)]
        start = first_day + timedelta(days=stream.below(span))
        messages.append(
            Message(
                id=1_457_000_000 + index * 104_729 + stream.below(100_000),
                name=f"{THEMES[index % len(THEMES)]} message {index + 1}",
                start=start,
                days=1 if delivery == "one_time" else 1 + stream.below(5),
                channel=CHANNELS[index % len(CHANNELS)],
                delivery=delivery,
                status="completed" if index % 4 else "running",
                message_type=MESSAGE_TYPES[index % len(MESSAGE_TYPES)],
                labels=(("promo",) if index % 2 else ("lifecycle", "retention")),
                daily_sent=200 + stream.below(5_000),
            )
        )
    return tuple(messages)
