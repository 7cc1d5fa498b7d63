"""
Read-only facts about the running site, for `/readyz` and `manage.py letter_stats`:
is the database reachable, are the migrations applied, how long is the email queue.

Each function reports what it can and says "unknown" for what it cannot, so a
monitoring page never fails because one part of the answer is missing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Min, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

# Once a process has seen every migration applied, its code cannot need more:
# skip re-reading the migration graph on every probe.
_migrations_seen_applied: set[str] = set()


def database_reachable(alias: str = "default") -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("database %s is unreachable", alias, exc_info=True)
        return False
    return True


def unapplied_migrations(alias: str = "default") -> list[str]:
    """Migrations this code has that the database lacks ("app.name" each)."""
    if alias in _migrations_seen_applied:
        return []
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    missing = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
    if not missing:
        _migrations_seen_applied.add(alias)
    return missing


def _age_seconds(oldest) -> float | None:
    if oldest is None:
        return None
    return round(max(0.0, (timezone.now() - oldest).total_seconds()), 1)


def _summary(queryset: QuerySet, time_field: str) -> dict[str, Any]:
    result = queryset.aggregate(depth=Count("pk"), oldest=Min(time_field))
    return {"depth": result["depth"], "oldest_age_seconds": _age_seconds(result["oldest"])}


def task_queue() -> dict[str, Any] | None:
    """Background tasks waiting in django-tasks-db's table (ready to run, not yet taken)."""
    if not apps.is_installed("django_tasks_db"):
        return None
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    # Only ready rows: they have a partial index, while finished results pile up
    # until pruned and would make every probe scan them.
    return _summary(DBTaskResult.objects.filter(status=TaskResultStatus.READY), "enqueued_at")


# Outbox states that mean "not delivered yet" and "given up".
_UNSENT_STATES = ("queued", "sending", "retrying", "pending")
_FAILED_STATES = ("failed",)


def email_queue() -> dict[str, Any] | None:
    """Outgoing emails not delivered yet, if this version keeps an outbox table (`OutgoingEmail`)."""
    try:
        model = apps.get_model("signatures", "OutgoingEmail")
    except LookupError:
        return None
    try:
        states = {value for value, _label in model._meta.get_field("status").choices or []}
        model._meta.get_field("created_at")
    except FieldDoesNotExist:
        return {"depth": "unknown", "oldest_age_seconds": "unknown"}
    unsent = [state for state in _UNSENT_STATES if state in states]
    failed = [state for state in _FAILED_STATES if state in states]
    summary = _summary(model._default_manager.filter(status__in=unsent), "created_at")
    summary["failed"] = model._default_manager.filter(status__in=failed).count()
    return summary


def queue_health() -> dict[str, Any]:
    """The email outbox and the task queue, whichever exist."""
    health: dict[str, Any] = {}
    emails = email_queue()
    if emails is not None:
        health["emails"] = emails
    tasks = task_queue()
    if tasks is not None:
        health["tasks"] = tasks
    return health


def readiness() -> tuple[bool, dict[str, Any]]:
    """(ready?, report): ready means the database answers and has every migration."""
    report: dict[str, Any] = {"database": "ok"}
    if not database_reachable():
        report["database"] = "unreachable"
        return False, report
    try:
        missing = unapplied_migrations()
    except DatabaseError:
        logger.warning("could not read the migration history", exc_info=True)
        report["migrations"] = "unknown"
        return False, report
    report["migrations"] = "ok" if not missing else {"unapplied": missing}
    try:
        report["queue"] = queue_health()
    except DatabaseError:
        # The queue tables may be missing while migrations are pending.
        logger.warning("could not measure the queues", exc_info=True)
        report["queue"] = "unknown"
    return not missing, report
