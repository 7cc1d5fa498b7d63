from __future__ import annotations

from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from signatures.models import Letter, Signature
from tests.factories import make_letter, make_signature, sign_data
from tests.helpers import emails_to


class SignFormTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})

    def post(self, **overrides):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, sign_data(self.letter, **overrides))

    def test_letter_page_shows_the_form(self):
        response = self.client.get(self.letter.get_absolute_url())
        assert response.status_code == 200
        self.assertContains(response, 'name="full_name"')
        self.assertContains(response, "Sign the letter")

    def test_valid_signature_is_stored_and_shows_check_your_email(self):
        response = self.post()
        self.assertRedirects(response, reverse("signatures:check_email", kwargs={"slug": self.letter.slug}))
        signature = Signature.objects.get()
        assert signature.full_name == "Agnès Varda"
        assert signature.state == Signature.State.SUBMITTED
        assert signature.ip_hash
        assert "127.0.0.1" not in signature.ip_hash
        assert len(mail.outbox) == 1
        page = self.client.get(response.url)
        self.assertContains(page, "Check your email")

    def test_email_is_kept_as_typed_and_normalised_for_duplicates(self):
        self.post(email="  Agnes.Varda@EXAMPLE.org ")
        signature = Signature.objects.get()
        assert signature.email == "Agnes.Varda@EXAMPLE.org"
        assert signature.email_normalized == "agnes.varda@example.org"
        assert signature.email_domain == "example.org"

    def assert_field_error(self, field, message, **overrides):
        response = self.post(**overrides)
        assert response.status_code == 400
        assert field in response.context["form"].errors
        self.assertContains(response, message, status_code=400)
        assert not Signature.objects.exists()
        assert mail.outbox == []
        return response

    def test_missing_name_is_an_error_and_other_values_are_kept(self):
        response = self.assert_field_error("full_name", "This field is required.", full_name="")
        self.assertContains(response, 'value="agnes@example.org"', status_code=400)

    def test_whitespace_only_name_is_an_error(self):
        self.assert_field_error("full_name", "This field is required.", full_name="   ")

    def test_name_with_a_url_is_an_error(self):
        self.assert_field_error(
            "full_name", "A name cannot contain a web address.", full_name="Buy http://spam.example"
        )

    def test_name_with_control_characters_is_an_error(self):
        self.assert_field_error("full_name", "invisible or control characters", full_name="Agnès\x1bVarda")

    def test_name_with_a_right_to_left_override_is_an_error(self):
        self.assert_field_error("full_name", "invisible or control characters", full_name="Agnès\u202eadraV")

    def test_overlong_name_is_an_error(self):
        self.assert_field_error("full_name", "at most 120 characters", full_name="A" * 121)

    def test_invalid_email_is_an_error(self):
        self.assert_field_error("email", "Enter a valid email address.", email="not-an-email")

    def test_missing_email_is_an_error(self):
        self.assert_field_error("email", "This field is required.", email="")

    def test_missing_profession_is_an_error(self):
        self.assert_field_error("profession", "This field is required.", profession="")

    def test_profession_from_another_letter_is_an_error(self):
        other = make_letter()
        foreign = other.professions.first()
        self.assert_field_error("profession", "Select a valid choice.", profession=str(foreign.pk))

    def test_other_profession_requires_a_title(self):
        self.assert_field_error("title", "Please give your title or role.", profession="other", title="")

    def test_other_profession_with_a_title_is_accepted(self):
        self.post(profession="other", title="Foley artist")
        signature = Signature.objects.get()
        assert signature.profession is None
        assert signature.profession_label == "Foley artist"

    def test_overlong_comment_is_an_error(self):
        self.assert_field_error("comment", "at most 1000 characters", comment="x" * 1001)

    def test_overlong_affiliation_is_an_error(self):
        self.assert_field_error("affiliation", "at most 150 characters", affiliation="x" * 151)

    def test_listing_consent_is_unticked_unless_the_signer_ticks_it(self):
        response = self.client.get(self.letter.get_absolute_url())
        self.assertContains(response, 'name="wants_listing"')
        self.assertNotContains(response, "checked")
        self.post(wants_listing=None)
        assert Signature.objects.get().wants_listing is False

    def test_errors_are_shown_next_to_each_field_and_in_a_summary(self):
        response = self.post(full_name="", email="nope")
        self.assertContains(response, 'id="error-summary"', status_code=400)
        self.assertContains(response, 'href="#id_full_name"', status_code=400)
        self.assertContains(response, 'href="#id_email"', status_code=400)


class DuplicateSignatureTests(TestCase):
    """The response is the same whatever we know about the email; only the mailbox differs."""

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})
        make_signature(cls.letter, Signature.State.SUBMITTED, email="pending@example.org")
        make_signature(cls.letter, Signature.State.APPROVED, email="signed@example.org")

    def sign_as(self, email):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, sign_data(self.letter, email=email))

    def test_new_pending_and_confirmed_emails_get_the_same_response(self):
        responses = [self.sign_as(email) for email in ("new@example.org", "pending@example.org", "signed@example.org")]
        assert {r.status_code for r in responses} == {302}
        assert {r["Location"] for r in responses} == {
            reverse("signatures:check_email", kwargs={"slug": self.letter.slug})
        }
        assert len({tuple(sorted(r.headers.keys())) for r in responses}) == 1
        assert len({r.content for r in responses}) == 1

    def test_a_new_email_gets_a_confirmation_link(self):
        self.sign_as("new@example.org")
        [message] = emails_to("new@example.org")
        assert "Confirm your signature" in message.subject
        assert "/confirm/" in message.body

    def test_a_pending_email_gets_the_confirmation_link_again_and_no_new_row(self):
        self.sign_as("Pending@Example.org")
        [message] = emails_to("pending@example.org")
        assert "Confirm your signature" in message.subject
        assert Signature.objects.filter(email_normalized="pending@example.org").count() == 1

    def test_a_confirmed_email_is_told_it_already_signed(self):
        self.sign_as("signed@example.org")
        [message] = emails_to("signed@example.org")
        assert "already signed" in message.subject
        assert "/confirm/" not in message.body
        assert Signature.objects.filter(email_normalized="signed@example.org").count() == 1


class ClosedLetterTests(TestCase):
    def post_to(self, letter):
        url = reverse("signatures:sign", kwargs={"slug": letter.slug})
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(url, sign_data(letter))

    def test_a_closed_letter_shows_the_letter_but_refuses_signatures(self):
        letter = make_letter(status=Letter.Status.CLOSED)
        page = self.client.get(letter.get_absolute_url())
        self.assertContains(page, "Signing is closed")
        self.assertNotContains(page, 'name="full_name"')
        response = self.post_to(letter)
        assert response.status_code == 403
        assert not Signature.objects.exists()
        assert mail.outbox == []

    def test_a_letter_past_its_closing_time_refuses_signatures(self):
        letter = make_letter(closes_at=timezone.now() - timezone.timedelta(minutes=1))
        assert self.post_to(letter).status_code == 403
        assert not Signature.objects.exists()

    def test_a_letter_not_yet_open_refuses_signatures(self):
        letter = make_letter(opens_at=timezone.now() + timezone.timedelta(days=1))
        self.assertContains(self.client.get(letter.get_absolute_url()), "not open for signatures yet")
        assert self.post_to(letter).status_code == 403
        assert not Signature.objects.exists()

    def test_a_draft_letter_is_not_found(self):
        letter = make_letter(status=Letter.Status.DRAFT)
        assert self.client.get(letter.get_absolute_url()).status_code == 404
        assert self.post_to(letter).status_code == 404
