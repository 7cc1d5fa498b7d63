"""Helpers that act the way a person would: read an email, follow its link."""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

from django.core import mail
from django.core.mail import EmailMessage

from signatures import outbox

LINK = re.compile(r"https?://[^\s\"<>]+")


def links_in(message: EmailMessage) -> list[str]:
    return LINK.findall(message.body)


def path_of_link(message: EmailMessage, containing: str) -> str:
    """The path of the first link in an email's text whose path contains `containing`."""
    for link in links_in(message):
        path = urlsplit(link).path
        if containing in path:
            return path
    raise AssertionError(f"no link containing {containing!r} in: {message.body}")


def emails_to(address: str) -> list[EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


def deliver_queued_emails() -> int:
    """Run the email worker's loop (`manage.py send_emails --until-idle`) here; return how many were sent."""
    return outbox.run_worker(stop=threading.Event(), poll_seconds=0, until_idle=True)
