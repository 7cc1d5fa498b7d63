"""Background tasks, run by `manage.py db_worker`: thin callers of the outbox and services."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django_tasks import task
from django_tasks.signals import task_started
from django_tasks_db.backend import DatabaseBackend

from . import delivery, digest, outbox, services


@task()
def send_email(message_id: str) -> str:
    """Send one queued email; `outbox.deliver` schedules its own retries, so this never raises for SMTP."""
    return outbox.deliver(message_id)


@receiver(task_started)
def _worker_commits_without_waiting_for_disk(sender: Any, **kwargs: Any) -> None:
    # Only in the database worker (`manage.py db_worker`), never a web process.
    if isinstance(sender, DatabaseBackend) or (isinstance(sender, type) and issubclass(sender, DatabaseBackend)):
        outbox.relax_commit_durability()


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


@task()
def draw_delivery_pdf(letter_id: int, list_sha256: str) -> bool:
    """Once, after a delivery is recorded: the addressee's PDF, kept with the letter."""
    return delivery.store_delivery_pdf(letter_id=letter_id, list_sha256=list_sha256)
