"""Elections and polls over JSON: `/v1/elections`, their officials
(`/permissions`), electorates, ballots, results and ballot files."""

from storyline.voting.api import elections

ROUTERS = (elections.router,)
