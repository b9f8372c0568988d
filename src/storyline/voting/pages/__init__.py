"""The election pages: the ballot, the receipt, and the results."""

from storyline.voting.pages import ballot, results

ROUTERS = (ballot.router, results.router)
