"""The tracker: projects and groups, stories and tasks, branches and milestones,
comments, tags, links and the timeline."""

# The subsystems this one may import (their models and services); the
# layering test holds each subsystem to its list, and the lists form no cycle.
REQUIRES: tuple[str, ...] = ("accounts",)
