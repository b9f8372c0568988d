"""Lists: worklists (manual and automatic), kanban boards and due dates."""

# The subsystems this one may import (their models and services); the
# layering test holds each subsystem to its list, and the lists form no cycle.
REQUIRES: tuple[str, ...] = ("accounts", "tracker")
