"""Accounts: users, teams, tokens, preferences and sign-in (local and OpenID Connect)."""

# The subsystems this one may import (their models and services); the
# layering test holds each subsystem to its list, and the lists form no cycle.
REQUIRES: tuple[str, ...] = ()
