"""Release cycles over JSON."""

from storyline.releases.api import reports, targeting

ROUTERS = (targeting.router, reports.router)
