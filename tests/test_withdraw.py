"""
Withdrawal, a signer's right: the page answers the same for every address,
the emailed link's GET changes nothing, and its POST takes the signature off
the list and the count and erases the signer from every table.
"""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.urls import reverse

from signatures import services
from signatures.models import OutgoingEmail, Signature, SignatureCounter
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, make_staff
from tests.helpers import deliver_queued_emails, emails_to, path_of_link
from tests.smtp import database_queue


class WithdrawalRequestTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Protect our work")
        cls.signature = make_signature(cls.letter, Signature.State.APPROVED, email="known@example.org")
        cls.url = reverse("signatures:withdraw_request", kwargs={"slug": cls.letter.slug})

    def ask(self, email):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, {"email": email})

    def test_the_letter_page_links_to_the_withdrawal_page(self):
        self.assertContains(self.client.get(self.letter.get_absolute_url()), f'href="{self.url}"')

    def test_the_page_asks_for_the_email(self):
        page = self.client.get(self.url)
        self.assertContains(page, "Withdraw my signature")
        self.assertContains(page, 'name="email"')

    def test_known_and_unknown_addresses_get_the_same_response(self):
        known = self.ask("Known@Example.org")
        unknown = self.ask("stranger@example.org")
        assert known.status_code == unknown.status_code == 200
        assert known.content == unknown.content
        assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
        self.assertContains(known, "Check your email")
        # Only the mailbox differs.
        [message] = emails_to("known@example.org")
        assert "Withdraw your signature" in message.subject
        assert "Protect our work" in message.subject
        assert emails_to("stranger@example.org") == []

    def test_a_withdrawn_signature_gets_no_new_link(self):
        token = make_token(self.signature, Purpose.WITHDRAW)
        services.withdraw_signature(token=token)
        mail.outbox.clear()
        self.ask("known@example.org")
        assert mail.outbox == []

    def test_an_invalid_address_is_a_form_error(self):
        response = self.ask("not-an-email")
        self.assertContains(response, "Enter a valid email address.", status_code=400)
        assert mail.outbox == []

    def test_the_links_an_address_can_ask_for_are_capped(self):
        for _ in range(10):
            self.ask("known@example.org")
        assert 1 <= len(emails_to("known@example.org")) <= 3


class WithdrawalLinkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=False)

    def setUp(self):
        self.signature = make_signature(
            self.letter,
            Signature.State.APPROVED,
            full_name="Agnès Varda",
            email="agnes@example.org",
            affiliation="Ciné-Tamaris",
            city="Paris",
            country="France",
            comment="For the film-makers who come after us.",
            ip_hash="a" * 64,
            is_notable=True,
        )
        self.path = reverse("signatures:withdraw", kwargs={"token": make_token(self.signature, Purpose.WITHDRAW)})

    def test_get_shows_a_button_and_changes_nothing(self):
        for _ in range(3):
            page = self.client.get(self.path)
            self.assertContains(page, '<form method="post"')
            self.assertContains(page, "Agnès Varda")
        assert "no-store" in page["Cache-Control"]
        self.signature.refresh_from_db()
        assert self.signature.state == Signature.State.APPROVED
        assert self.signature.email == "agnes@example.org"
        assert SignatureCounter.value_for(self.letter, SignatureCounter.PUBLIC) == 1

    def test_post_withdraws_and_erases_the_signer(self):
        response = self.client.post(self.path)
        self.assertContains(response, "Your signature is withdrawn")
        signature = Signature.objects.get(pk=self.signature.pk)
        assert signature.state == Signature.State.WITHDRAWN
        assert signature.withdrawn_at is not None
        for field in ("full_name", "name_key", "email", "email_normalized", "email_domain", "affiliation"):
            assert getattr(signature, field) == "", field
        assert (signature.city, signature.country, signature.comment, signature.ip_hash) == ("", "", "", "")
        assert signature.wants_listing is False
        assert signature.is_notable is False
        assert SignatureCounter.value_for(self.letter, SignatureCounter.PUBLIC) == 0
        assert SignatureCounter.value_for(self.letter, SignatureCounter.LISTED) == 0
        assert SignatureCounter.value_for(self.letter, "state:approved") == 0
        assert SignatureCounter.value_for(self.letter, "state:withdrawn") == 1
        assert services.recount_letter(letter=self.letter) == {}

    def test_the_link_works_once(self):
        self.client.post(self.path)
        self.assertContains(self.client.get(self.path), "This link no longer works", status_code=400)
        self.assertContains(self.client.post(self.path), "This link no longer works", status_code=400)

    def test_a_confirmation_token_does_not_withdraw(self):
        path = reverse("signatures:withdraw", kwargs={"token": make_token(self.signature, Purpose.CONFIRM)})
        self.assertContains(self.client.post(path), "This link no longer works", status_code=400)
        self.signature.refresh_from_db()
        assert self.signature.state == Signature.State.APPROVED

    def test_the_same_address_can_sign_again_after_withdrawing(self):
        self.client.post(self.path)
        services.sign_letter(
            letter=self.letter, full_name="Agnès Varda", email="agnes@example.org", profession=None, title="Director"
        )
        assert Signature.objects.filter(email_normalized="agnes@example.org").count() == 1


class WithdrawalErasesEverywhereTests(TestCase):
    """After withdrawal, no table holds anything the signer gave us (asserted on every table)."""

    NAME = "Agnès Varda-Withdrawn"
    EMAIL = "agnes.withdrawn@example.org"
    DETAILS = ("Ciné-Tamaris-Unique", "Noirmoutier-Unique", "A comment only she wrote")

    def setUp(self):
        self.enterContext(database_queue())

    def rows_mentioning(self, *needles):
        """Every (table, row) in the database whose text contains one of `needles`."""
        found = []
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (our table names)
                for row in cursor.fetchall():
                    text = " ".join(str(value) for value in row)
                    if any(needle in text for needle in needles):
                        found.append((table, row))
        return found

    def test_post_removes_the_signer_from_the_list_the_count_and_every_table(self):
        letter = make_letter(requires_moderation=False, title="Protect our work")
        services.sign_letter(
            letter=letter,
            full_name=self.NAME,
            email=self.EMAIL,
            profession=letter.professions.first(),
            affiliation=self.DETAILS[0],
            city=self.DETAILS[1],
            comment=self.DETAILS[2],
            wants_listing=True,
            ip_address="203.0.113.7",
        )
        deliver_queued_emails()
        [confirmation] = emails_to(self.EMAIL)
        self.client.post(path_of_link(confirmation, "/confirm/"))
        signature = Signature.objects.get()
        ip_hash = signature.ip_hash
        assert signature.state == Signature.State.APPROVED
        # A moderator once edited it in the admin: the history names it.
        LogEntry.objects.create(
            user=make_staff(),
            content_type=ContentType.objects.get_for_model(Signature),
            object_id=str(signature.pk),
            object_repr=str(signature),
            action_flag=CHANGE,
            change_message="[]",
        )
        self.assertContains(self.client.get(letter.get_absolute_url()), self.NAME)
        assert self.rows_mentioning(self.EMAIL, self.NAME)

        self.client.post(reverse("signatures:withdraw_request", kwargs={"slug": letter.slug}), {"email": self.EMAIL})
        deliver_queued_emails()
        withdrawal = next(m for m in emails_to(self.EMAIL) if "Withdraw" in m.subject)
        withdraw_path = path_of_link(withdrawal, "/withdraw/")
        self.client.get(withdraw_path)
        assert Signature.objects.get().state == Signature.State.APPROVED
        self.client.post(withdraw_path)

        page = self.client.get(letter.get_absolute_url())
        self.assertNotContains(page, self.NAME)
        assert page.context["letter"].public_count == 0
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug}))
        self.assertNotContains(listing, self.NAME)
        assert not OutgoingEmail.objects.exists()
        needles = (self.EMAIL, self.NAME, "agnes.withdrawn", ip_hash, *self.DETAILS)
        assert self.rows_mentioning(*needles) == []
