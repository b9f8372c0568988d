"""A cycle's schedule as an iCalendar feed (RFC 5545), for calendar apps to
subscribe to: one all-day event per schedule entry.

Each event's UID is made of the entry's id and the server's host, so that a
calendar updates an entry in place when it moves or is renamed, and DTSTAMP
is the entry's last change, so that the feed is the same until the schedule
changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from storyline.releases.models import Cycle, ScheduleEntry

# Where the UIDs live when the server's public address is not configured.
DEFAULT_HOST = "storyline.invalid"


def feed(cycle: Cycle, entries: Sequence[ScheduleEntry], *, public_url: str | None) -> bytes:
    """The feed; with the server's public address, each event links to the
    schedule page (a URL must be absolute, so without it there is none)."""
    host = urlsplit(public_url).hostname if public_url else None
    calendar = Calendar()
    calendar.add("prodid", "-//Storyline//Release cycles//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", cycle.title or cycle.name)
    for entry in entries:
        event = Event()
        event.add("uid", f"cycle-entry-{entry.id}@{host or DEFAULT_HOST}")
        event.add("dtstamp", entry.updated_at or entry.created_at)
        event.add("dtstart", entry.starts_on)
        # All-day events end on the day after their last (DTEND is exclusive).
        event.add("dtend", (entry.ends_on or entry.starts_on) + dt.timedelta(days=1))
        event.add("summary", entry.name)
        event.add("description", entry.description or _kind_label(entry))
        event.add("categories", [entry.kind])
        if public_url:
            event.add("url", f"{public_url}/cycles/{cycle.name}/schedule")
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


def _kind_label(entry: ScheduleEntry) -> str:
    label = entry.kind.replace("_", " ").capitalize()
    return label if entry.number is None else f"{label} {entry.number}"
