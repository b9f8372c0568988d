"""Every write, and every read of user data, goes through a service here.

Services take `session` and `actor` keyword-only, flush but never commit: the
edge that called them owns the transaction.
"""
