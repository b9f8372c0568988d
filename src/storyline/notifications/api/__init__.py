"""Subscriptions, the feed, webhooks and the outbox over JSON."""

from storyline.notifications.api import subscriptions, webhooks

ROUTERS = (subscriptions.router, webhooks.router)
