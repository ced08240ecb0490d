"""`python -m infra.topology`: every trigger (route, queue, stream, schedule) -> the file that handles it.

One line each: the trigger, the handler file, and the topology module that declares it.
"""

from __future__ import annotations

from infra.topology import (
    FUNCTIONS,
    Function,
    admin,
    beds24,
    bookings,
    core,
    delivery,
    payments,
    pms,
    realtime,
    websites,
)

DOMAIN_MODULES = (core, bookings, websites, payments, admin, beds24, delivery, pms, realtime)


def declared_in(fn: Function) -> str:
    """The topology module that declares the function, as a path."""
    module = next(m for m in DOMAIN_MODULES if fn in m.FUNCTIONS)
    return module.__name__.replace(".", "/") + ".py"


def triggers(fn: Function) -> list[str]:
    found = [f"{route.method} {route.path}" for route in fn.routes]
    found += [f"queue {fn.queue.queue}"] if fn.queue else []
    found += [f"stream {fn.stream.table}"] if fn.stream else []
    found += [f"schedule {schedule.name} {schedule.expression}" for schedule in fn.schedules]
    return found


def lines() -> list[str]:
    rows = [(trigger, fn.handler_path, declared_in(fn)) for fn in FUNCTIONS for trigger in triggers(fn)]
    width = max(len(trigger) for trigger, _, _ in rows)
    return [f"{trigger:<{width}}  {handler}  ({module})" for trigger, handler, module in rows]


if __name__ == "__main__":
    print("\n".join(lines()))
