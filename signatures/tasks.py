"""Background tasks, run by `manage.py db_worker`: thin callers of the outbox and services."""

from __future__ import annotations

from django_tasks import task

from . import outbox


@task()
def send_email(message_id: str) -> str:
    """Send one queued email; `outbox.deliver` schedules its own retries, so this never raises for SMTP."""
    return outbox.deliver(message_id)

