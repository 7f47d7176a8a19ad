"""How fast SLA due times are computed: BusinessCalendar.add/between over random starts.

    .venv/bin/python bench/sla_clock.py
"""

import datetime as dt
import random
import time

from lbsup.followups.business_time import DEFAULT_HOURS, BusinessCalendar

N = 20_000


def main():
    rng = random.Random(7)
    calendar = BusinessCalendar("America/Los_Angeles", DEFAULT_HOURS,
                                frozenset({dt.date(2025, 12, 25), dt.date(2026, 1, 1)}))
    base = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    starts = [base + dt.timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(N)]
    for hours in (4, 40, 200):
        began = time.perf_counter()
        dues = [calendar.add(s, hours) for s in starts]
        add_us = (time.perf_counter() - began) / N * 1e6
        began = time.perf_counter()
        for s, d in zip(starts, dues):
            calendar.between(s, d)
        between_us = (time.perf_counter() - began) / N * 1e6
        print(f"target {hours:>3} business hours: add {add_us:6.1f} µs, between {between_us:6.1f} µs per ticket")


if __name__ == "__main__":
    main()
