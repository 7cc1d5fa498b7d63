"""
The database cache, with an increment that is atomic across processes.

Django's `DatabaseCache.incr` reads, adds and writes back, so two workers
counting the same key at the same moment lose one count. The abuse limits
(`signatures.abuse.limits`) count with `incr`, so here the row is locked
(`SELECT ... FOR UPDATE` on PostgreSQL) while it is read and written. Redis,
through `CACHE_URL`, increments atomically by itself.

Django's `add` and `set` also count the whole table (`SELECT COUNT(*)`) on
every call to decide whether to cull, which on a viral day (a million limit
keys) would cost more than the signature itself. On PostgreSQL and SQLite,
each is one `INSERT ... ON CONFLICT` here (`add` replaces only an expired
row), and expired rows are deleted on one write in CULL_SAMPLE rather than by
counting; MAX_ENTRIES is then not enforced, expiry bounds the table instead.

With Redis, `RedisCache` here keeps one client object per process (Django
makes one per call) and counts several limits in one round trip.
"""

from __future__ import annotations

import base64
import pickle
import random
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache.backends import db
from django.core.cache.backends import redis as redis_backend
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.db import connections, models, router, transaction
from django.utils.timezone import now as tz_now

CULL_SAMPLE = 1000


class DatabaseCache(db.DatabaseCache):
    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        if not self._can_upsert():
            return super().add(key, value, timeout, version)
        return self._upsert(key, value, timeout, version, only_over_expired=True)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        if not self._can_upsert():
            super().set(key, value, timeout, version)
            return
        self._upsert(key, value, timeout, version, only_over_expired=False)

    def _can_upsert(self) -> bool:
        return connections[router.db_for_write(self.cache_model_class)].vendor in ("postgresql", "sqlite")

    def _upsert(self, key: Any, value: Any, timeout: Any, version: int | None, *, only_over_expired: bool) -> bool:
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        now = tz_now().replace(microsecond=0)
        if timeout is None:
            expires = datetime.max  # noqa: DTZ901 (as Django's own database cache does)
        else:
            expires = datetime.fromtimestamp(timeout, tz=UTC if settings.USE_TZ else None)
        expires = expires.replace(microsecond=0)
        encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        table = connection.ops.quote_name(self._table)
        adapt = connection.ops.adapt_datetimefield_value
        condition = f"WHERE {table}.expires < %s" if only_over_expired else ""
        params = [key, encoded, adapt(expires)] + ([adapt(now)] if only_over_expired else [])
        with connection.cursor() as cursor:
            if random.randrange(CULL_SAMPLE) == 0:  # noqa: S311 (sampling, not security)
                cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [adapt(now)])  # noqa: S608
            cursor.execute(
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "  # noqa: S608
                f"ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, expires = excluded.expires "
                f"{condition}",
                params,
            )
            return cursor.rowcount == 1

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        table = connection.ops.quote_name(self._table)
        lock = connection.ops.for_update_sql() if connection.features.has_select_for_update else ""
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute(f"SELECT value, expires FROM {table} WHERE cache_key = %s {lock}", [key])  # noqa: S608
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found.")
            value, expires = row
            for converter in converters:
                expires = converter(expires, expression, connection)
            if expires < tz_now():
                raise ValueError(f"Key '{key}' not found.")
            new_value = pickle.loads(base64.b64decode(value.encode())) + delta  # noqa: S301 (our own rows)
            encoded = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET value = %s WHERE cache_key = %s", [encoded, key])  # noqa: S608
        return new_value


class _ReusedClientRedisCacheClient(redis_backend.RedisCacheClient):
    # Django builds a new redis-py client object for every cache call, which
    # costs more CPU than the Redis round trip itself; the client holds no
    # per-call state (the pool hands out connections), so one per pool will do.
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis_backend.RedisCache):
    """
    Django's Redis cache, with one client object per process instead of one
    per call, and `count_many`: the abuse limits' counters in one round trip.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient

    def count_many(self, timeouts: dict[str, int]) -> dict[str, int]:
        """
        Add one to each key and return the new counts; a key that did not exist
        starts at one and expires after its timeout. One MULTI/EXEC, so every
        process sees each count exactly once.
        """
        client = self._cache.get_client(write=True)
        keys = {key: self.make_and_validate_key(key) for key in timeouts}
        pipeline = client.pipeline(transaction=True)
        for key, timeout in timeouts.items():
            # SET NX gives a new window its expiry; INCR counts (atomically, in order).
            pipeline.set(keys[key], 0, ex=timeout, nx=True)
            pipeline.incr(keys[key])
        replies = pipeline.execute()
        return {key: int(replies[2 * i + 1]) for i, key in enumerate(timeouts)}
