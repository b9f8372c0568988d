"""Sending email over SMTP: one connection per message, built once per
process by the composition root and used by the worker."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import parseaddr

from storyline.config import Settings


class Mailer:
    """Sends rendered messages through the configured SMTP server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage, *, to: str) -> None:
        settings = self.settings
        if not settings.smtp_host:
            raise ConnectionError("no SMTP server is configured (STORYLINE_SMTP_HOST)")
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            from_address = parseaddr(settings.smtp_from)[1] or "storyline@localhost"
            smtp.send_message(message, from_addr=from_address, to_addrs=[to])
