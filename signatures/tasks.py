"""
Scheduled jobs, run by `manage.py db_worker`: each a thin call into services.
Sending email is the outbox's own task (`signatures.outbox.send_email`).
"""

from __future__ import annotations

from django_tasks import task

from signatures import services
from signatures.outbox import send_email
from signatures.reports import digest

# Emails queued before the send task moved into the outbox name it here; the
# worker resolves a task by that path, so those still send after an upgrade.
__all__ = ["send_email"]


@task()
def send_moderation_digest() -> int:
    """The daily digest to organizers who opted in (staff email, straight through django.core.mail)."""
    return digest.send_moderation_digest()


@task()
def launch_due_letters() -> int:
    """Every minute: founding letters past their launch time get the status readers already see (open)."""
    return len(services.launch_due_letters())


@task()
def check_surges() -> int:
    """The hourly surge check; returns how many new flags were raised."""
    return len(services.flag_surges())
