"""How the tracker's pages tell timeline events."""

from __future__ import annotations

from storyline.domain import events as event_types
from storyline.kernel.models import Event
from storyline.tracker.page_data import Names, event_info


def describe_event(event: Event, names: Names) -> str:
    """One sentence for a timeline event, without its author (the registry's)."""
    what = event_types.describe(event.event_type, event_info(event), names)
    # A kind this server doesn't know (written by a newer version): its name.
    return what or event.event_type.replace("_", " ")
