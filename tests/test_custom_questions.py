"""Per-letter custom questions: on the sign form, checked, stored, exported to organizers, public only if marked."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from signatures.models import CustomQuestion, Signature
from tests import test_privacy
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.pages import (
    PRIVATE_ANSWER,
    PRIVATE_CHOICE,
    PUBLIC_ANSWER,
    public_pages,
    seed_custom_questions,
    seed_demo_letter,
)


def body_of(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


class SignFormQuestionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.guild = CustomQuestion.objects.create(letter=cls.letter, label="Union or guild", is_required=True)
        cls.number = CustomQuestion.objects.create(letter=cls.letter, label="Member number", position=1)
        cls.status = CustomQuestion.objects.create(
            letter=cls.letter, label="Membership", kind=CustomQuestion.Kind.CHOICE, choices="Full\nStudent", position=2
        )
        cls.tick = CustomQuestion.objects.create(
            letter=cls.letter, label="I work in film", kind=CustomQuestion.Kind.CHECKBOX, position=3
        )
        cls.other_letter = make_letter()

    def sign(self, answers=None):
        data = sign_data(self.letter)
        data.update({f"question_{q.pk}": v for q, v in (answers or {}).items()})
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(reverse("signatures:sign", kwargs={"slug": self.letter.slug}), data)

    def test_the_form_asks_the_letters_questions_and_only_them(self):
        page = self.client.get(self.letter.get_absolute_url()).content.decode()
        for label in ("Union or guild", "Member number", "Membership", "I work in film"):
            assert label in page
        assert f'name="question_{self.guild.pk}"' in page
        assert "Student" in page
        other = self.client.get(self.other_letter.get_absolute_url()).content.decode()
        assert "Union or guild" not in other

    def test_a_required_question_left_empty_is_an_error_and_nothing_is_stored(self):
        response = self.sign()
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        assert not Signature.objects.filter(letter=self.letter).exists()

    def test_a_choice_outside_the_list_and_an_overlong_answer_are_errors(self):
        response = self.sign({self.guild: "x" * 201, self.status: "Honorary"})
        assert response.status_code == 400
        page = response.content.decode()
        assert "at most 200 characters" in page
        assert "Select a valid choice" in page
        assert not Signature.objects.filter(letter=self.letter).exists()

    def test_answers_are_stored_with_the_signature(self):
        response = self.sign({self.guild: "  Editors   Guild ", self.status: "Student", self.tick: "on"})
        assert response.status_code == 302
        signature = Signature.objects.get(letter=self.letter)
        assert signature.answers == {self.guild.key: "Editors Guild", self.status.key: "Student", self.tick.key: True}

    def test_the_organizers_export_carries_every_answer_public_or_not(self):
        make_signature(
            self.letter,
            Signature.State.APPROVED,
            full_name="Exported Person",
            answers={self.guild.key: "Editors Guild", self.number.key: "A-42", self.tick.key: True},
        )
        self.client.force_login(make_staff())
        response = self.client.get(reverse("admin:signatures_signature_export") + "?status=all")
        lines = body_of(response).splitlines()
        header = lines[0]
        for label in ("Union or guild", "Member number", "Membership", "I work in film"):
            assert label in header
        row = next(line for line in lines if "Exported Person" in line)
        assert "Editors Guild" in row
        assert "A-42" in row
        assert "Yes" in row


class PublicAnswerTests(TestCase):
    """A private answer appears on no public page or export; a public one shows on the list and exports."""

    # Every public URL from the urlconf, as the no-email scan walks them.
    kwargs_for = test_privacy.NoEmailOnAnyPublicUrlTests.kwargs_for
    public_urls = test_privacy.NoEmailOnAnyPublicUrlTests.public_urls

    @classmethod
    def setUpTestData(cls):
        cls.letter = seed_demo_letter()
        cls.signatures = list(Signature.objects.filter(letter=cls.letter))

    def test_a_private_answer_appears_on_no_public_page_or_export(self):
        bodies = {
            page.name: body_of(getattr(self.client, page.method)(page.path, page.data))
            for page in public_pages(self.letter)
        }
        for url in self.public_urls():
            bodies[url] = body_of(self.client.get(url, follow=True))
        assert len(bodies) > 20
        for where, body in bodies.items():
            assert PRIVATE_ANSWER not in body, f"a private answer leaked on {where}"
            # The sign form lists the choices themselves; what a signer chose shows nowhere.
            without_form = body.replace(f'<option value="{PRIVATE_CHOICE}">{PRIVATE_CHOICE}</option>', "")
            assert PRIVATE_CHOICE not in without_form, f"a private choice leaked on {where}"
            assert "I am a working professional: " not in body, f"a private tick box leaked on {where}"

    def test_a_public_answer_shows_on_the_list_and_in_the_public_exports(self):
        slug = {"slug": self.letter.slug}
        listing = self.client.get(reverse("signatures:signatories", kwargs=slug)).content.decode()
        assert f"Union or guild: {PUBLIC_ANSWER}" in listing
        csv_body = body_of(self.client.get(reverse("signatures:export_csv", kwargs=slug)))
        assert "Union or guild" in csv_body.splitlines()[0]
        assert PUBLIC_ANSWER in csv_body
        json_body = body_of(self.client.get(reverse("signatures:export_json", kwargs=slug)))
        assert f'"answers": {{"Union or guild": "{PUBLIC_ANSWER}"}}' in json_body

    def test_marking_a_question_private_takes_its_answers_off_the_public_list(self):
        question = CustomQuestion.objects.get(letter=self.letter, label="Union or guild")
        question.is_public = False
        question.save()
        assert seed_custom_questions(self.letter)[question.key] == PUBLIC_ANSWER  # the answer is still stored
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        assert PUBLIC_ANSWER not in listing.content.decode()
