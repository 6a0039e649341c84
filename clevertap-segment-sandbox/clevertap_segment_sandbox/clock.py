"""The account's calendar: its timezone, its "today", and which days hold seeded history."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def yyyymmdd(day: date) -> int:
    """CleverTap's integer day format (20261120)."""
    return day.year * 10000 + day.month * 100 + day.day


def parse_yyyymmdd(value: object) -> date | None:
    """Parse CleverTap's integer (or digit-string) day; None when it is not a real date."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 10000101 <= value <= 99991231:
        return None
    try:
        return date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        return None


class AccountClock:
    """Days in the account timezone; history starts at a fixed day and ends yesterday.

    The first history day is fixed when the sandbox starts (`start_today - days`), so moving
    "today" forward adds days without dropping old ones: a lookback re-read sees the same data.
    """

    def __init__(self, timezone: str, start_today: date | None, days: int) -> None:
        self.tz = ZoneInfo(timezone)
        self.start_today = start_today or datetime.now(self.tz).date()
        self.first_day = self.start_today - timedelta(days=days)
        self.today = self.start_today

    def reset(self) -> None:
        """Back to the start-up date."""
        self.today = self.start_today

    def now(self) -> datetime:
        """The account's current time: the real time of day, on the sandbox's "today".

        Every CleverTap response carries it in its `Date` header, as any HTTP server does, so a
        client can take "today" from the vendor instead of trusting its own clock.
        """
        real = datetime.now(self.tz)
        return real + (self.today - real.date())

    def local_day(self, epoch: float) -> date:
        """The account-timezone day of an epoch time."""
        return datetime.fromtimestamp(epoch, self.tz).date()

    @property
    def yesterday(self) -> date:
        """The newest day that can hold data."""
        return self.today - timedelta(days=1)

    def history_days(self, today: date | None = None) -> list[date]:
        """Every day holding seeded data as seen on `today` (default: the current one)."""
        last = (today or self.today) - timedelta(days=1)
        count = (last - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(max(count, 0))]

    def has_data(self, day: date, today: date | None = None) -> bool:
        """Whether `day` lies inside the seeded history."""
        return self.first_day <= day < (today or self.today)

    def epoch(self, day: date, second_of_day: int) -> int:
        """Epoch seconds of a local wall-clock time in the account timezone."""
        local = datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(
            seconds=second_of_day
        )
        return int(local.timestamp())


def packed_ts(day: date, second_of_day: int) -> int:
    """CleverTap's event `ts`: yyyyMMddHHmmss of the local wall-clock time."""
    hours, rest = divmod(second_of_day, 3600)
    return yyyymmdd(day) * 1_000_000 + hours * 10000 + (rest // 60) * 100 + rest % 60
