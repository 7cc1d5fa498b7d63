"""The one-signature-per-email constraint holds when identical submissions race."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client, TransactionTestCase
from django.urls import reverse

from signatures.models import Signature, SignatureCounter
from tests.factories import form_guard, make_letter, sign_data

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers, so it cannot show a race; the constraint is tested on PostgreSQL.",
)


@needs_postgres
class ConcurrentDoubleSubmitTests(TransactionTestCase):
    def test_identical_submissions_at_the_same_moment_create_one_row(self):
        letter = make_letter()
        url = reverse("signatures:sign", kwargs={"slug": letter.slug})
        data = sign_data(letter, email="twice@example.org")
        threads_count = 8
        barrier = threading.Barrier(threads_count)
        statuses: list[int] = []
        errors: list[BaseException] = []

        def submit():
            try:
                barrier.wait()
                # Each its own drawing of the form: a stamp is good for one submission.
                statuses.append(Client().post(url, {**data, **form_guard(letter)}).status_code)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=submit) for _ in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert errors == []
        assert statuses == [302] * threads_count
        assert Signature.objects.filter(email_normalized="twice@example.org").count() == 1
        assert SignatureCounter.value_for(letter, "state:submitted") == 1
