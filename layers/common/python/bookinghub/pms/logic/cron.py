"""A hotel's sync schedule: the seed's five-field cron ("0 */6 * * *"), checked and turned into EventBridge's.

Hotels write Unix cron (minute hour day-of-month month day-of-week, 0 or 7 = Sunday); EventBridge Scheduler
wants `cron(minutes hours day-of-month month day-of-week year)` with 1 = Sunday and exactly one of the two
day fields `?`. So the weekday field is rewritten as names (no numbering to get wrong), `*/n` steps start
from the field's first value (EventBridge's `0/n` form), and a cron restricting both day fields is refused:
Unix reads it as "either matches", which EventBridge cannot say.
"""

from __future__ import annotations

import re

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_ELEMENT = re.compile(r"^(\*|[0-9A-Z]+(?:-[0-9A-Z]+)?)(?:/([0-9]+))?$")


class CronError(ValueError):
    """The text is not a schedule the hub can run (the message says which part, for the 400 answer)."""


def _number(text: str, name: str, low: int, high: int) -> int:
    names = _MONTHS if name == "month" else _DAYS if name == "day of week" else ()
    if text in names:
        return names.index(text) + (1 if name == "month" else 0)
    if not text.isdigit():
        raise CronError(f"{name}: {text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"{name}: {value} is outside {low}-{high}")
    return value


def _values(field: str, name: str, low: int, high: int) -> set[int]:
    found: set[int] = set()
    for element in field.split(","):
        match = _ELEMENT.match(element)
        if not match:
            raise CronError(f"{name}: {element!r} is not a value, range, list or step")
        span, step_text = match.group(1), match.group(2)
        step = int(step_text) if step_text else 1
        if step < 1:
            raise CronError(f"{name}: the step must be at least 1")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (_number(part, name, low, high) for part in span.split("-"))
        else:
            first = _number(span, name, low, high)
            last = high if step_text else first  # `5/15`: from 5 on, every 15
        if first > last:
            raise CronError(f"{name}: the range {element!r} runs backwards")
        found.update(range(first, last + 1, step))
    return found


def _eventbridge_field(field: str, low: int) -> str:
    """Minute, hour, day of month and month read the same in both; only `*/n` is spelt `low/n`."""
    return ",".join(f"{low}/{e[2:]}" if e.startswith("*/") else e for e in field.split(","))


def normalise(text: str) -> str:
    """The hotel's cron, checked, in one canonical spelling (single spaces, upper-case names)."""
    fields = text.upper().split()
    if len(fields) != 5:
        raise CronError("a cron expression has 5 fields: minute hour day-of-month month day-of-week")
    for field, (name, low, high) in zip(fields, _FIELDS, strict=True):
        _values(field, name, low, high)
    if fields[2] != "*" and fields[4] != "*":
        raise CronError("restrict the day of month or the day of week, not both (EventBridge cannot run 'either')")
    return " ".join(fields)


def to_eventbridge(text: str) -> str:
    """`0 */6 * * *` -> `cron(0 0/6 * * ? *)`; `30 2 * * 1-5` -> `cron(30 2 ? * MON,TUE,WED,THU,FRI *)`."""
    minute, hour, dom, month, dow = normalise(text).split()
    if dow == "*":
        dom_out, dow_out = _eventbridge_field(dom, 1), "?"
    else:
        days = {value % 7 for value in _values(dow, "day of week", 0, 7)}  # 7 is Sunday too
        dom_out, dow_out = "?", ",".join(_DAYS[day] for day in sorted(days))
    fields = (_eventbridge_field(minute, 0), _eventbridge_field(hour, 0), dom_out, _eventbridge_field(month, 1))
    return f"cron({' '.join(fields)} {dow_out} *)"
