"""
A letter's counters are split over shards so that people signing at the same
moment do not wait for each other's row lock: the counts stay exact, under
concurrent signers too, and a recount finds no drift.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.test import Client, TestCase, TransactionTestCase
from django.urls import reverse

from signatures import services
from signatures.models import Signature, SignatureCounter
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, sign_data

State = Signature.State

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers, so concurrent signers cannot contend for a row; run on PostgreSQL.",
)


def run_together(work: list[Callable[[], None]]) -> list[BaseException]:
    """Run each callable in its own thread, all released at once; return what they raised."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@needs_postgres
class ConcurrentSignersTests(TransactionTestCase):
    THREADS = 12
    EACH = 4

    def test_counts_stay_exact_when_many_sign_and_confirm_at_once(self):
        letter = make_letter(requires_moderation=False)
        url = reverse("signatures:sign", kwargs={"slug": letter.slug})
        statuses: list[int] = []

        def signer(n: int) -> Callable[[], None]:
            def sign() -> None:
                # Each signer from their own address, under the per-IP limit: none is held.
                client = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
                for i in range(self.EACH):
                    email = f"signer{n}.{i}@studio{n}.example.org"
                    statuses.append(client.post(url, sign_data(letter, email=email)).status_code)

            return sign

        assert run_together([signer(n) for n in range(self.THREADS)]) == []
        signed = self.THREADS * self.EACH
        assert statuses == [302] * signed
        assert SignatureCounter.value_for(letter, SignatureCounter.state_key(State.SUBMITTED)) == signed

        tokens = [make_token(s, Purpose.CONFIRM) for s in Signature.objects.filter(letter=letter)]

        def confirmer(part: list[str]) -> Callable[[], None]:
            def confirm() -> None:
                for token in part:
                    assert services.confirm_signature(token=token) is not None

            return confirm

        parts = [tokens[n :: self.THREADS] for n in range(self.THREADS)]
        assert run_together([confirmer(part) for part in parts]) == []

        assert Signature.objects.filter(letter=letter, state=State.APPROVED).count() == signed
        counts = SignatureCounter.values_for(letter)
        assert counts[SignatureCounter.PUBLIC] == signed
        assert counts[SignatureCounter.LISTED] == signed
        assert counts[SignatureCounter.state_key(State.SUBMITTED)] == 0
        assert services.recount_letter(letter=letter) == {}
        # The writes went to more than one row: nobody had to wait for a single one.
        assert SignatureCounter.objects.filter(letter=letter, key=SignatureCounter.PUBLIC).count() > 1
        page = self.client.get(reverse("signatures:count_json", kwargs={"slug": letter.slug})).json()
        assert page["count"] == signed


class ShardedCounterTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=False)
        for _ in range(3):
            make_signature(cls.letter, State.APPROVED)

    def test_a_count_is_the_sum_of_its_shards(self):
        SignatureCounter.objects.filter(letter=self.letter, key=SignatureCounter.PUBLIC).delete()
        for shard, value in ((0, 5), (3, 2), (9, -1)):
            SignatureCounter.objects.create(letter=self.letter, key=SignatureCounter.PUBLIC, shard=shard, value=value)
        assert SignatureCounter.value_for(self.letter, SignatureCounter.PUBLIC) == 6
        assert SignatureCounter.values_for(self.letter)[SignatureCounter.PUBLIC] == 6

    def test_a_recount_puts_a_drifted_tally_right_whatever_its_shards_hold(self):
        SignatureCounter.objects.filter(letter=self.letter, key=SignatureCounter.PUBLIC).delete()
        for shard in (1, 4, 7):
            SignatureCounter.objects.create(letter=self.letter, key=SignatureCounter.PUBLIC, shard=shard, value=4)
        assert services.recount_letter(letter=self.letter) == {SignatureCounter.PUBLIC: (12, 3)}
        assert SignatureCounter.value_for(self.letter, SignatureCounter.PUBLIC) == 3
        assert services.recount_letter(letter=self.letter) == {}

    def test_a_withdrawal_leaves_the_count_exact_whichever_shard_it_takes_from(self):
        signature = Signature.objects.filter(letter=self.letter).first()
        services.withdraw_signature(token=make_token(signature, Purpose.WITHDRAW))
        assert SignatureCounter.value_for(self.letter, SignatureCounter.PUBLIC) == 2
        assert services.recount_letter(letter=self.letter) == {}
