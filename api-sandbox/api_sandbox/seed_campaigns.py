"""Seeded campaigns (targets) and message reports, spread over the history and the near future."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from api_sandbox.clock import yyyymmdd
from api_sandbox.prng import Stream, key64

CHANNELS = ("push", "email", "sms", "inapp", "webhooks")
DELIVERIES = ("one_time", "recurring", "action", "api")
MESSAGE_TYPES = ("single", "ab")
THEMES = ("Weekend Promo", "Payday Deal", "Welcome Series", "Cart Reminder", "Festive Drop")

# How /1/targets/result.json answers for a campaign that has no report (clevertap-api.md §3.7,
# three forms observed live). Which status gets which form is the sandbox's choice.
REPORT_FORMS = {
    "completed": "result",
    "running": "no_result_yet_500",
    "stopped": "conflict_409",
    "scheduled": "not_completed_200",
}


@dataclass(frozen=True)
class Campaign:
    """One API campaign."""

    id: int
    name: str
    scheduled_on: date
    status: str
    channel: str
    sent: int

    @property
    def report_form(self) -> str:
        """Which of the report answers this campaign gives."""
        return REPORT_FORMS[self.status]

    def listing(self) -> dict[str, Any]:
        """The entry in /1/targets/list.json."""
        return {
            "id": self.id,
            "name": self.name,
            "scheduled_on": yyyymmdd(self.scheduled_on),
            "status": self.status,
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

    Past campaigns are mostly completed, some still running or stopped; future ones are
    scheduled. Every status (so every report form) occurs for every seed.
    """
    stream = Stream(key64(seed, "campaigns"))
    campaigns = []
    start = first_day - timedelta(days=30)
    span = (start_today - start).days + 30
    base_id = 1_700_000_000 + stream.below(50_000_000)
    for index in range(20):
        scheduled = start + timedelta(days=index * span // 20 + stream.below(2))
        if scheduled >= start_today:
            status = "scheduled"
        elif index % 7 == 3:
            status = "running"
        elif index % 7 == 5:
            status = "stopped"
        else:
            status = "completed"
        theme = THEMES[index % len(THEMES)]
        campaigns.append(
            Campaign(
                id=base_id + index * 7919,
                name=f"{theme} #{index + 1}",
                scheduled_on=scheduled,
                status=status,
                channel=stream.choice(CHANNELS),
                sent=0 if status == "scheduled" else 500 + stream.below(20_000),
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
