"""
The Redis cache production uses (`CACHE_URL=redis://…`): the abuse limits
count their windows there, several in one round trip, with the same counts
and expiry one at a time. Skipped when no Redis answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import socket
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.test import TestCase, override_settings

from signatures.abuse import limits

REDIS_URL = "redis://127.0.0.1:6379/13"


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not redis_answers(), reason="No Redis on 127.0.0.1:6379 to test the Redis cache against."
)


def redis_caches() -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        },
        "fallback": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }


@needs_redis
class RedisLimitCountingTests(TestCase):
    def setUp(self):
        override = override_settings(CACHES=redis_caches())
        override.enable()
        self.addCleanup(override.disable)

    def test_several_limits_are_counted_together_exactly(self):
        rate = limits.Rate(3, 60)
        events = [
            ("burst", "192.0.2.1", rate),
            ("domain", "studio.example", limits.Rate(10, 3600)),
            ("off", "x", None),
        ]
        now = time.time()

        for expected in range(1, 5):
            burst, domain, off = limits.hit_many(events, now=now)
            assert (burst.count, domain.count, off) == (expected, expected, None)

        assert burst.exceeded
        assert not domain.exceeded
        assert limits.peek("burst", "192.0.2.1", rate, now=now) == 4

    def test_one_at_a_time_and_together_share_the_same_counters(self):
        rate = limits.Rate(5, 60)
        now = time.time()
        limits.hit("shared", "192.0.2.2", rate, now=now)
        [together] = limits.hit_many([("shared", "192.0.2.2", rate)], now=now)
        assert together.count == 2
        assert limits.hit("shared", "192.0.2.2", rate, now=now).count == 3

    def test_a_new_window_expires_a_little_after_it_ends(self):
        rate = limits.Rate(5, 60)
        now = time.time()
        limits.hit_many([("expiring", "192.0.2.3", rate)], now=now)
        client = redis.Redis.from_url(REDIS_URL)
        (key,) = client.keys(f"{settings.CACHES['default']['KEY_PREFIX']}:limit:expiring:*")
        assert limits.subject_key("192.0.2.3").encode() in key
        assert 60 < client.ttl(key) <= 120
