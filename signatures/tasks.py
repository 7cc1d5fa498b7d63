"""Background tasks, run by `manage.py db_worker`: thin callers of the outbox and services."""

from __future__ import annotations

from django_tasks import task

from . import digest, outbox, services


@task()
def send_email(message_id: str) -> str:
    """Send one queued email; `outbox.deliver` schedules its own retries, so this never raises for SMTP."""
    return outbox.deliver(message_id)


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
