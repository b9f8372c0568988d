"""The election pages: the list, one election's page and its officials'
buttons, and the form that writes one. The ballot and results pages are
in their own modules."""

from storyline.voting.pages import elections

ROUTERS = (elections.router,)
