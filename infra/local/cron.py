"""EventBridge schedule expressions, evaluated in UTC: `rate(N unit)` and `cron(min hour dom month dow year)`.

The cron subset is the one EventBridge rules use: numbers, month and weekday names, `*`, `?`, lists,
ranges and steps. Weekdays are 1-7 with 1 = Sunday. Exactly one of day-of-month and day-of-week must be
`?`. The `L`, `W` and `#` forms are rejected rather than misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    m: i + 1 for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))
}
_WEEKDAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_ELEMENT = re.compile(r"^(\*|[0-9A-Z]+(?:-[0-9A-Z]+)?)(?:/(\d+))?$")


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, moment: datetime, started: datetime) -> datetime:
        """The first tick strictly after `moment`, counting whole periods from `started`."""
        elapsed = (moment - started).total_seconds()
        periods = max(0, int(elapsed // self.seconds)) + 1
        return started + timedelta(seconds=periods * self.seconds)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: `?`
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # None: `?`; 1 = Sunday
    years: frozenset[int]

    def next_after(self, moment: datetime, started: datetime | None = None) -> datetime | None:
        """The first matching minute strictly after `moment` (UTC), or None if the years run out."""
        start = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        last_year = max(self.years)
        while day.year <= last_year:
            if day.year not in self.years:
                day = day.replace(year=day.year + 1, month=1, day=1)
                continue
            if day.month not in self.months:
                day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)  # first of next month
                continue
            if self._day_matches(day):
                found = self._time_on(day, start)
                if found is not None:
                    return found
            day += timedelta(days=1)
        return None

    def _day_matches(self, day: datetime) -> bool:
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        weekday = day.isoweekday() % 7 + 1  # isoweekday: Monday 1 .. Sunday 7 -> Sunday 1 .. Saturday 7
        return self.days_of_week is not None and weekday in self.days_of_week

    def _time_on(self, day: datetime, start: datetime) -> datetime | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                candidate = day.replace(hour=hour, minute=minute)
                if candidate >= start:
                    return candidate
        return None


Expression = Rate | Cron


def parse(expression: str) -> Expression:
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value <= 0:
            raise ValueError(f"{expression!r}: the rate must be positive")
        if (value == 1) != (not unit.endswith("s")):
            raise ValueError(f"{expression!r}: EventBridge wants '1 {unit.rstrip('s')}' or 'N {unit.rstrip('s')}s'")
        return Rate(seconds=value * _UNIT_SECONDS[unit.rstrip("s")])
    cron = _CRON.match(text)
    if not cron:
        raise ValueError(f"{expression!r}: expected rate(...) or cron(...)")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ValueError(f"{expression!r}: cron takes 6 fields (minutes hours day-of-month month day-of-week year)")
    minute, hour, dom, month, dow, year = (f.upper() for f in fields)
    if (dom == "?") == (dow == "?"):
        raise ValueError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")
    return Cron(
        minutes=_field(minute, 0, 59),
        hours=_field(hour, 0, 23),
        days_of_month=None if dom == "?" else _field(dom, 1, 31),
        months=_field(month, 1, 12, _MONTHS),
        days_of_week=None if dow == "?" else _field(dow, 1, 7, _WEEKDAYS),
        years=_field(year, 1970, 2199),
    )


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for element in text.split(","):
        match = _ELEMENT.match(element)
        if not match:
            raise ValueError(f"unsupported cron element {element!r}")
        span, step = match.group(1), int(match.group(2) or 1)
        if step <= 0:
            raise ValueError(f"cron step must be positive in {element!r}")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (_value(part, low, high, names) for part in span.split("-"))
        else:
            first = _value(span, low, high, names)
            last = high if match.group(2) else first  # `5/15` means from 5 on, every 15
        if first > last:
            raise ValueError(f"cron range {element!r} runs backwards")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _value(text: str, low: int, high: int, names: dict[str, int] | None) -> int:
    if names and text in names:
        return names[text]
    if not text.isdigit():
        raise ValueError(f"unsupported cron value {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"cron value {value} is outside {low}-{high}")
    return value
