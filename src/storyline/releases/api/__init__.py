"""Release cycles over JSON."""

from storyline.releases.api import exceptions, leads

ROUTERS = (exceptions.router, leads.router)
