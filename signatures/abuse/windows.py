"""
The counting windows behind the abuse limits, shared by every process.

Where the shared cache is Redis (`CACHE_URL=redis://…`), windows are Redis
keys: `SET NX EX` gives a new window its expiry and `INCR` counts, all of a
sign attempt's windows in one MULTI round trip, through redis-py's own client.

Otherwise they are rows of our own table (`LimitWindow`): one statement adds
one to every window of an event (`INSERT … ON CONFLICT DO UPDATE … RETURNING`,
on PostgreSQL and SQLite alike), so two processes never lose a count and no
lock is held between statements. Rows are written in key order, so two
transactions counting the same windows queue up instead of deadlocking.
Expired rows are deleted on one write in CULL_SAMPLE.
"""

from __future__ import annotations

import functools
import random
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from signatures.models import LimitWindow

CULL_SAMPLE = 1000
REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


def _redis_url() -> str | None:
    default = settings.CACHES["default"]
    if default["BACKEND"] != REDIS_BACKEND:
        return None
    location = default["LOCATION"]
    return location[0] if isinstance(location, list | tuple) else location.split(",")[0]


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    # One client per process and URL: it holds a connection pool, not a connection.
    return redis.Redis.from_url(url)


def _redis_key(key: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:limit:{key}"


def count(windows: dict[str, int]) -> dict[str, int]:
    """Add one to each window (its key and how many seconds it must last); return the new counts."""
    if not windows:
        return {}
    url = _redis_url()
    if url is not None:
        return _count_in_redis(_redis_client(url), windows)
    return _count_in_database(windows)


def peek(key: str) -> int:
    """A window's count so far, without adding to it."""
    url = _redis_url()
    if url is not None:
        value = _redis_client(url).get(_redis_key(key))
        return int(value) if value is not None else 0
    row = LimitWindow.objects.filter(key=key, expires_at__gte=timezone.now()).values_list("count", flat=True).first()
    return row or 0


def _count_in_redis(client: redis.Redis, windows: dict[str, int]) -> dict[str, int]:
    pipeline = client.pipeline(transaction=True)
    keys = sorted(windows)
    for key in keys:
        pipeline.set(_redis_key(key), 0, ex=windows[key], nx=True)
        pipeline.incr(_redis_key(key))
    replies = pipeline.execute()
    return {key: int(replies[2 * i + 1]) for i, key in enumerate(keys)}


def _count_in_database(windows: dict[str, int]) -> dict[str, int]:
    now = timezone.now()
    keys = sorted(windows)
    adapt = connection.ops.adapt_datetimefield_value
    table, key_column, count_column, expires_column = (
        connection.ops.quote_name(name) for name in (LimitWindow.TABLE, "key", "count", "expires_at")
    )
    rows = ", ".join(["(%s, 1, %s)"] * len(keys))
    params: list[Any] = []
    for key in keys:
        params += [key, adapt(now + timedelta(seconds=windows[key]))]
    with connection.cursor() as cursor:
        if random.randrange(CULL_SAMPLE) == 0:  # noqa: S311 (sampling, not security)
            cursor.execute(f"DELETE FROM {table} WHERE {expires_column} < %s", [adapt(now)])  # noqa: S608
        cursor.execute(
            # Our own table and placeholders only: no value is formatted into the SQL.
            f"INSERT INTO {table} ({key_column}, {count_column}, {expires_column}) VALUES {rows} "  # noqa: S608
            f"ON CONFLICT ({key_column}) DO UPDATE SET {count_column} = {table}.{count_column} + 1 "
            f"RETURNING {key_column}, {count_column}",
            params,
        )
        return dict(cursor.fetchall())


def forget_expired() -> int:
    """Delete windows that no longer count anything; return how many."""
    if _redis_url() is not None:
        return 0  # Redis expires its keys itself.
    return LimitWindow.objects.filter(expires_at__lt=timezone.now()).delete()[0]
