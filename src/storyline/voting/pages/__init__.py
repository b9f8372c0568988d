"""The election pages: the list, one election's page with its officials'
buttons, the form that writes one, the ballot and its receipt, and the
results."""

from storyline.voting.pages import ballot, elections, results

ROUTERS = (elections.router, ballot.router, results.router)
