"""
The database cache, with an increment that is atomic across processes.

Django's `DatabaseCache.incr` reads, adds and writes back, so two workers
counting the same key at the same moment lose one count. The abuse limits
(`signatures.limits`) count with `incr`, so here the row is locked
(`SELECT ... FOR UPDATE` on PostgreSQL) while it is read and written. Redis,
through `CACHE_URL`, increments atomically by itself.
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.core.cache.backends import db
from django.db import connections, models, router, transaction
from django.utils.timezone import now as tz_now


class DatabaseCache(db.DatabaseCache):
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
