"""
Transparency: the public "How we verify" text, the ledger of moderation
outcomes (equal to the database truth, never naming anyone removed) and the
verified mark with its method.
"""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from signatures import services
from signatures.models import Letter, Signature
from signatures.tokens import Purpose, make_token
from tests.admin_helpers import make_moderator, run_action
from tests.factories import make_letter, make_signature

State = Signature.State


class LedgerTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=True)
        other = make_letter()
        make_signature(other, State.APPROVED)  # another letter's signatures never leak in
        make = make_signature
        cls.submitted = [make(cls.letter, State.SUBMITTED) for _ in range(2)]
        cls.confirmed = [make(cls.letter, State.CONFIRMED) for _ in range(3)]
        cls.held = make(cls.letter, State.CONFIRMED, hold_reason=Signature.HoldReason.WATCHLIST)
        cls.approved = [make(cls.letter, State.APPROVED) for _ in range(4)]
        cls.unlisted = make(cls.letter, State.APPROVED, wants_listing=False)
        cls.rejected = make(cls.letter, State.REJECTED, full_name="Ordinary Rejection")
        # One impostor removed by hand, a flood from one domain in bulk.
        cls.impostor = make(cls.letter, State.APPROVED, full_name="Famous Impostor")
        services.reject_signatures(
            signature_ids=[cls.impostor.pk],
            moderator=None,
            reason="Not the real one",
            category=Signature.RejectionCategory.FRAUD,
        )
        cls.flood = [make(cls.letter, State.CONFIRMED, email=f"bot{n}@spam.example") for n in range(5)]
        services.invalidate_signatures(letter=cls.letter, moderator=None, email_domain="spam.example")
        cls.leaver = make(cls.letter, State.APPROVED, full_name="Person Who Left")
        services.withdraw_signature(token=make_token(cls.leaver, Purpose.WITHDRAW))

    def ledger(self) -> dict[str, int]:
        page = self.client.get(reverse("signatures:transparency", kwargs={"slug": self.letter.slug}))
        assert page.status_code == 200
        return {row.key: row.value for row in page.context["ledger"]}

    def test_the_ledgers_numbers_equal_the_database_truth_after_a_mixed_scenario(self):
        signatures = Signature.objects.filter(letter=self.letter)
        truth = {f"state:{state}": signatures.filter(state=state).count() for state in State.values}
        truth["held"] = signatures.filter(state=State.CONFIRMED).exclude(hold_reason="").count()
        truth["rejected:fraud"] = signatures.filter(
            state=State.REJECTED, rejection_category=Signature.RejectionCategory.FRAUD
        ).count()
        added = signatures.filter(state=State.APPROVED, added_by_organizers=True).count()
        assert self.ledger() == {**truth, "added_by_organizers": added}
        # And the scenario is what we think it is.
        assert truth == {
            "state:submitted": 2,
            "state:confirmed": 4,
            "held": 1,
            "state:approved": 5,
            "state:rejected": 7,
            "rejected:fraud": 6,
            "state:withdrawn": 1,
        }
        assert services.recount_letter(letter=self.letter) == {}

    def test_the_ledger_follows_changes_as_they_happen(self):
        before = self.ledger()
        services.approve_signatures(signature_ids=[self.held.pk], moderator=None)
        after = self.ledger()
        assert after["held"] == before["held"] - 1
        assert after["state:confirmed"] == before["state:confirmed"] - 1
        assert after["state:approved"] == before["state:approved"] + 1

    def test_the_ledger_never_names_anyone_removed(self):
        page = self.client.get(reverse("signatures:transparency", kwargs={"slug": self.letter.slug}))
        for name in ("Famous Impostor", "Ordinary Rejection", "Person Who Left", "spam.example", "Not the real one"):
            self.assertNotContains(page, name)

    def test_a_moderator_rejects_as_fraudulent_from_the_queue(self):
        self.client.force_login(make_moderator())
        target = self.confirmed[0]
        run_action(self.client, "reject_as_fraud", [target.pk], post="yes", reason="Fake")
        target.refresh_from_db()
        assert target.state == State.REJECTED
        assert target.rejection_category == Signature.RejectionCategory.FRAUD
        assert self.ledger()["rejected:fraud"] == 7

    def test_the_letter_page_links_to_the_ledger(self):
        page = self.client.get(self.letter.get_absolute_url())
        self.assertContains(page, reverse("signatures:transparency", kwargs={"slug": self.letter.slug}))

    def test_a_draft_or_founding_letter_has_no_public_ledger(self):
        for status in (Letter.Status.DRAFT, Letter.Status.FOUNDING):
            letter = make_letter(status=status)
            url = reverse("signatures:transparency", kwargs={"slug": letter.slug})
            assert self.client.get(url).status_code == 404


class HowWeVerifyTests(TestCase):
    def test_the_organizers_text_is_shown_as_sanitised_markdown(self):
        letter = make_letter(
            verification_text="We call **every** notable signer.<script>alert(1)</script>"
            "\n\n[bad](javascript:alert(2))"
        )
        page = self.client.get(reverse("signatures:transparency", kwargs={"slug": letter.slug}))
        self.assertContains(page, "We call <strong>every</strong> notable signer.", html=False)
        self.assertNotContains(page, "<script>alert(1)")
        self.assertNotContains(page, "javascript:")

    def test_without_a_text_a_default_explanation_is_shown(self):
        letter = make_letter()
        page = self.client.get(reverse("signatures:transparency", kwargs={"slug": letter.slug}))
        self.assertContains(page, "confirms their email address")


class VerifiedMarkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.notable = make_signature(cls.letter, State.APPROVED, full_name="Verified Composer")
        services.mark_notable(signature_ids=[cls.notable.pk], moderator=None)
        services.mark_verified(
            signature_ids=[cls.notable.pk],
            moderator=None,
            method=Signature.VerificationMethod.REPRESENTATIVE,
        )

    def test_the_list_shows_the_verified_mark_and_the_method_category_without_script(self):
        for url in (
            self.letter.get_absolute_url(),
            reverse("signatures:signatories", kwargs={"slug": self.letter.slug}),
        ):
            page = self.client.get(url)
            # A <details> disclosure: reachable by keyboard, readable without JavaScript.
            self.assertContains(page, '<details class="verified"><summary>', html=False)
            self.assertContains(page, "Confirmed by their agent or representative")

    def test_a_verified_signatory_without_a_recorded_method_still_reads_sensibly(self):
        services.mark_verified(signature_ids=[self.notable.pk], moderator=None, method="")
        page = self.client.get(self.letter.get_absolute_url())
        self.assertContains(page, "Identity checked by the organizers")
