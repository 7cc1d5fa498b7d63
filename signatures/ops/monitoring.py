"""
Read-only facts about the running site, for `/readyz` and `manage.py letter_stats`:
is the database reachable, are the migrations applied, how long is the email queue.

`readiness` reports what it can and says "unknown" for what it cannot, so a
monitoring page never fails because one part of the answer is missing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Min, QuerySet
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from signatures.models import OutgoingEmail

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


def task_queue() -> dict[str, Any]:
    """Background tasks waiting in django-tasks-db's table (ready to run, not yet taken)."""
    # Only ready rows: they have a partial index, while finished results pile up
    # until pruned and would make every probe scan them.
    return _summary(DBTaskResult.objects.filter(status=TaskResultStatus.READY), "enqueued_at")


def email_queue() -> dict[str, Any]:
    """Outgoing emails not delivered yet, and how many were given up on."""
    summary = _summary(OutgoingEmail.objects.queued(), "created_at")
    summary["failed"] = OutgoingEmail.objects.failed().count()
    return summary


def queue_health() -> dict[str, Any]:
    """The email outbox and the task queue."""
    return {"emails": email_queue(), "tasks": task_queue()}


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
