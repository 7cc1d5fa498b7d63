"""Counts are exact without counting rows, and the recount finds no drift after real use."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from signatures import services
from signatures.models import Signature, SignatureCounter
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, sign_data


def _truth(letter) -> dict[str, int]:
    """The counters as COUNT(*) would give them: what the stored ones must equal."""
    listed = Signature.objects.listed().filter(letter=letter)
    truth = {
        SignatureCounter.PUBLIC: Signature.objects.public().filter(letter=letter).count(),
        SignatureCounter.LISTED: listed.count(),
    }
    for row in listed.order_by().values("profession_id").annotate(n=Count("pk")):
        if row["profession_id"]:
            truth[f"profession:{row['profession_id']}"] = row["n"]
    for row in Signature.objects.filter(letter=letter).order_by().values("state").annotate(n=Count("pk")):
        truth[f"state:{row['state']}"] = row["n"]
    truth["held"] = Signature.objects.filter(letter=letter, state="confirmed").exclude(hold_reason="").count()
    return {key: value for key, value in truth.items() if value}


KNOWN_KEYS = ("public", "listed", "held", "profession:", "state:")


def _stored(letter) -> dict[str, int]:
    counters = SignatureCounter.values_for(letter).items()
    return {key: value for key, value in counters if value and key.startswith(KNOWN_KEYS)}


def _recount(*args: str) -> str:
    out = io.StringIO()
    call_command("recount_signatures", *args, stdout=out)
    return out.getvalue()


class CountsStayExactTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=False)
        cls.moderated = make_letter(requires_moderation=True)

    def _sign(self, letter, email: str, **fields) -> Signature:
        url = reverse("signatures:sign", kwargs={"slug": letter.slug})
        response = self.client.post(url, sign_data(letter, email=email, **fields))
        assert response.status_code == 302, response.content[:500]
        return Signature.objects.get(letter=letter, email_normalized=email)

    def _confirm(self, signature: Signature) -> None:
        assert services.confirm_signature(token=make_token(signature, Purpose.CONFIRM)) is not None

    def test_counts_match_the_rows_after_a_mixed_day_and_the_recount_finds_no_drift(self):
        composer = self.letter.professions.last()
        signed = [
            self._sign(self.letter, f"person{n}@example.org", full_name=f"Person {n}", profession=str(composer.pk))
            for n in range(6)
        ]
        unlisted = self._sign(self.letter, "quiet@example.org", wants_listing=None)
        other = self._sign(self.letter, "other@example.org", profession="other", title="Grip")
        for signature in [*signed, unlisted, other]:
            self._confirm(signature)
        # Signing twice changes nothing.
        self._sign(self.letter, "person0@example.org")
        services.reject_signatures(signature_ids=[signed[0].pk], moderator=None)
        services.mark_notable(signature_ids=[signed[1].pk], moderator=None)
        services.mark_verified(signature_ids=[signed[2].pk], moderator=None)
        assert services.withdraw_signature(token=make_token(signed[3], Purpose.WITHDRAW)) is not None

        waiting = [self._sign(self.moderated, f"wait{n}@example.org") for n in range(3)]
        for signature in waiting:
            self._confirm(signature)
        services.approve_signatures(signature_ids=[waiting[0].pk], moderator=None)
        services.reject_signatures(signature_ids=[waiting[1].pk], moderator=None)
        stale = self._sign(self.moderated, "stale@example.org")
        Signature.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=365))
        services.purge_expired_signatures()

        assert _stored(self.letter) == _truth(self.letter)
        assert _stored(self.moderated) == _truth(self.moderated)
        # Some may be held by the per-network limit (one test client, one IP): whatever happened, it adds up.
        assert 0 < self.letter.public_count == _truth(self.letter)[SignatureCounter.PUBLIC] <= 6
        out = _recount("--check")
        assert "No drift." in out

    def test_the_letter_page_and_the_count_endpoint_show_the_stored_count(self):
        make_signature(self.letter, Signature.State.APPROVED)
        make_signature(self.letter, Signature.State.APPROVED, wants_listing=False)
        make_signature(self.letter, Signature.State.CONFIRMED)
        self.assertContains(self.client.get(self.letter.get_absolute_url()), "<strong>2</strong> signatures")
        count = self.client.get(reverse("signatures:count_json", kwargs={"slug": self.letter.slug})).json()
        assert count["count"] == 2
        assert count["listed"] == 1


class RecountCommandTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        make_signature(cls.letter, Signature.State.APPROVED)
        make_signature(cls.letter, Signature.State.CONFIRMED)

    def test_it_reports_and_fixes_drift(self):
        SignatureCounter.objects.filter(letter=self.letter, key=SignatureCounter.PUBLIC).update(value=41)
        out = _recount()
        assert f"{self.letter.slug}: public was 41, is 1 (fixed)." in out
        assert SignatureCounter.value_for(self.letter, SignatureCounter.PUBLIC) == 1
        assert "No drift." in _recount()

    def test_check_exits_non_zero_on_drift(self):
        SignatureCounter.objects.filter(letter=self.letter, key="state:confirmed").delete()
        with pytest.raises(CommandError) as caught:
            _recount("--check")
        assert caught.value.returncode == 1
        assert "1 counter(s) had drifted" in str(caught.value)

    def test_an_unknown_letter_is_an_error(self):
        with pytest.raises(CommandError):
            _recount("no-such-letter")


class GenerateSignaturesTests(TestCase):
    def test_it_fills_a_letter_with_a_mix_and_exact_counters(self):
        letter = make_letter()
        out = io.StringIO()
        call_command("generate_signatures", 400, letter=letter.slug, batch=150, seed=7, stdout=out)
        assert "400 / 400" in out.getvalue()
        signatures = Signature.objects.filter(letter=letter)
        assert signatures.count() == 400
        states = set(signatures.values_list("state", flat=True))
        assert {"approved", "confirmed", "submitted"} <= states
        assert signatures.exclude(name_key="").filter(name_key__regex=r"[A-Z]").count() == 0
        assert signatures.filter(full_name__regex=r"[^\x00-\x7f]").exists()
        assert _stored(letter) == _truth(letter)
        assert "No drift." in _recount("--check", letter.slug)
