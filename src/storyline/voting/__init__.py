"""Voting: elections and polls run in the tracker.

Officials (an object role on the election) write the candidates, the seats,
the counting method and the electorate; voting opens and closes on its
window; voters rank the candidates on a secret ballot; after the close (or
live, for a poll whose officials chose so) the results are counted by
`storyline.elections`, exactly as CIVS counts them, with every analysis.
See docs/voting.md.
"""

# The subsystems this one may import (their models and services); the
# layering test holds each subsystem to its list, and the lists form no cycle.
REQUIRES: tuple[str, ...] = ("accounts", "tracker", "notifications")
