"""
Scheduled jobs as django-tasks tasks, for a site that runs a task worker:
each a thin call into services. The documented deployment runs their
management commands from cron instead; email has its own worker
(`manage.py send_emails`).
"""

from __future__ import annotations

from django_tasks import task

from signatures import services
from signatures.reports import digest


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
