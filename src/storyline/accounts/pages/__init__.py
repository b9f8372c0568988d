"""Sign-in, a person's account and settings, and the administration of teams
and users."""

from storyline.accounts.pages import account, admin, auth, settings

ROUTERS = (auth.router, account.router, settings.router, admin.router)
