"""Release cycles: cycles and their schedules, the projects' series in each
cycle and their stable support, targeting to milestones, feature and string
freezes and their exceptions, weekly status reports, and velocity."""

# The subsystems this one may import (their models and services); the
# layering test holds each subsystem to its list, and the lists form no cycle.
REQUIRES: tuple[str, ...] = ("accounts", "tracker", "notifications")
