"""Notifications: the subscription feed, email and digests, webhooks and the
worker that delivers them."""

# The subsystems this one may import (their models and services); the
# layering test holds each subsystem to its list, and the lists form no cycle.
REQUIRES: tuple[str, ...] = ("accounts", "tracker", "lists")
