"""Retention: `manage.py purge_signatures` removes exactly what it should, and the counts stay exact."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import time_machine
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.utils import timezone

from signatures import emails, services
from signatures.models import OutgoingEmail, Signature
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature

State = Signature.State


@override_settings(SIGNATURES_UNCONFIRMED_RETENTION_DAYS=30)
class PurgeSignaturesTests(TestCase):
    def make(self, letter, state, days_ago, **fields):
        with time_machine.travel(timezone.now() - timedelta(days=days_ago)):
            signature = make_signature(letter, state, **fields)
            emails.send_confirmation(signature)
        return signature

    def purge(self) -> str:
        out = StringIO()
        call_command("purge_signatures", stdout=out)
        return out.getvalue()

    def test_it_deletes_unconfirmed_signatures_past_retention_and_nothing_else(self):
        letter, other = make_letter(), make_letter()
        expired = [
            self.make(letter, State.SUBMITTED, days_ago=31),
            self.make(letter, State.SUBMITTED, days_ago=400),
            self.make(other, State.SUBMITTED, days_ago=45),
        ]
        kept = [
            self.make(letter, State.SUBMITTED, days_ago=29),
            self.make(letter, State.CONFIRMED, days_ago=90),
            self.make(letter, State.APPROVED, days_ago=90),
            self.make(letter, State.REJECTED, days_ago=90),
            self.make(other, State.APPROVED, days_ago=365),
        ]

        output = self.purge()

        assert "Deleted 3 signature(s)" in output
        assert not Signature.objects.filter(pk__in=[s.pk for s in expired]).exists()
        assert set(Signature.objects.values_list("pk", flat=True)) == {s.pk for s in kept}
        # Their queued emails went with them.
        assert not OutgoingEmail.objects.filter(signature_id__in=[s.pk for s in expired]).exists()
        assert OutgoingEmail.objects.count() == len(kept)
        for each in (letter, other):
            assert services.recount_letter(letter=each) == {}
        assert "Deleted 0 signature(s)" in self.purge()

    def test_it_finishes_erasing_withdrawn_signatures_that_still_hold_data(self):
        letter = make_letter()
        signature = self.make(letter, State.APPROVED, days_ago=3, full_name="Half Erased", affiliation="Studio")
        # Withdrawn by an older version, or by hand in the database: data left behind.
        keys = signature.counter_keys()
        signature.state = State.WITHDRAWN
        signature.withdrawn_at = timezone.now()
        services.save_counted(signature, keys)
        clean = self.make(letter, State.APPROVED, days_ago=3)
        services.withdraw_signature(token=make_token(clean, Purpose.WITHDRAW))

        output = self.purge()

        assert "erased the data of 1 withdrawn signature(s)" in output
        signature.refresh_from_db()
        assert signature.state == State.WITHDRAWN
        assert (signature.full_name, signature.email, signature.affiliation) == ("", "", "")
        assert not signature.outgoing_emails.exists()
        assert Signature.objects.filter(state=State.WITHDRAWN).count() == 2
        assert services.recount_letter(letter=letter) == {}
        assert "erased the data of 0 withdrawn" in self.purge()
