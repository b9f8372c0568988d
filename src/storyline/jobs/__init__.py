"""Background work: the outbox worker and the handlers that deliver email,
digests and webhook calls."""
