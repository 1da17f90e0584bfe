"""Delivering a sign-in link: by mail when `SIMTUNE_SMTP_URL` names a server, else into the
service's log at WARNING.

The log is the operator's channel on an install without a mail server — the one place a
link may be read by whoever reads the logs, and the one deliberate exception to keeping
what people send out of the log. The SMTP URL's password never reaches a log line
(`redact_url`). smtplib blocks, so a mail is sent in a worker thread.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from contracts.accounts import MAGIC_LINK_MINUTES
from contracts.base import DomainError, ErrorCode
from runtime.logs import get_logger, redact_url

log = get_logger(__name__)

SMTP_TIMEOUT_S = 15.0
SUBJECT = "Sign in to Simtune"


class Mailer:
    def __init__(self, smtp_url: str | None) -> None:
        self.smtp_url = smtp_url

    @property
    def delivery(self) -> str:
        return "email" if self.smtp_url else "log"

    async def send_link(self, to: str, link: str) -> None:
        if not self.smtp_url:
            log.warning(
                f"Sign-in link for {to} (no SIMTUNE_SMTP_URL is set, so it is written here):"
                f" {link} — it works once, for {MAGIC_LINK_MINUTES} minutes.",
                email=to,
            )
            return
        message = sign_in_message(to, link, sender(self.smtp_url))
        try:
            await asyncio.to_thread(send, self.smtp_url, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error(
                "accounts.mail_failed", server=redact_url(self.smtp_url), error=type(exc).__name__
            )
            raise DomainError(
                ErrorCode.UNAVAILABLE,
                "the sign-in email could not be sent right now; try again in a moment",
            ) from exc
        log.info("accounts.link_mailed", server=redact_url(self.smtp_url))


def sender(smtp_url: str) -> str:
    parts = urlsplit(smtp_url)
    found = parse_qs(parts.query).get("from")
    return found[0] if found else f"simtune@{parts.hostname or 'localhost'}"


def sign_in_message(to: str, link: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = SUBJECT, sender, to
    message.set_content(
        f"Open this link to sign in to Simtune:\n\n{link}\n\n"
        f"It works once, for {MAGIC_LINK_MINUTES} minutes. If you did not ask for it, ignore"
        " this email: nobody can sign in without the link.\n"
    )
    return message


def send(smtp_url: str, message: EmailMessage) -> None:
    """Send `message` through the server `smtp_url` names (blocking: run it in a thread)."""
    parts = urlsplit(smtp_url)
    query = parse_qs(parts.query)
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=SMTP_TIMEOUT_S, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT_S)
    with client:
        if parts.scheme == "smtp" and query.get("starttls", [""])[0] in ("on", "1", "true"):
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
