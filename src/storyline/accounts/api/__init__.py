"""Users, their preferences and tokens, and teams over JSON."""

from storyline.accounts.api import teams, user_preferences, user_tokens, users

ROUTERS = (users.router, user_preferences.router, user_tokens.router, teams.router)
