"""The next blood test as an iCalendar file (RFC 5545) the patient can add to a calendar.

It names no one: no patient name, record number or id, only the day and what to do, so the
file holds nothing beyond what the patient chooses to keep with it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from flask_babel import gettext
from icalendar import Calendar, Event

PRODUCT_ID = "-//Clozapine monitoring//Patient view//EN"


def blood_test_calendar(test_on: date, now: datetime) -> bytes:
    """A calendar with one all-day event on `test_on`, stamped `now` (an aware datetime)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{uuid.uuid4()}@clozapine-monitoring")
    event.add("dtstamp", now)
    event.add("dtstart", test_on)
    event.add("dtend", test_on + timedelta(days=1))
    event.add("summary", gettext("Blood test"))
    event.add(
        "description",
        gettext("Get your blood test today. If you cannot go, call your care team."),
    )
    calendar.add_component(event)
    return bytes(calendar.to_ical())
