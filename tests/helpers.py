"""Helpers that act the way a person would: read an email, follow its link."""

from __future__ import annotations

import re
from unittest import mock
from urllib.parse import urlsplit

from django.core import mail
from django.core.mail import EmailMessage
from django_tasks_db.management.commands import db_worker

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
    """Run the email worker (`manage.py db_worker --batch`) here until no task is ready; return how many ran."""

    worker = db_worker.Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    # The worker recycles database connections between tasks; inside a
    # test's transaction that would end the test.
    with mock.patch.object(db_worker, "close_old_connections"):
        worker.run()
    return worker._run_tasks
