from io import StringIO

from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse

from signatures.models import Letter, Signature


class DemoLetterTests(TestCase):
    def test_the_demo_letter_is_created_once_and_can_be_signed(self):
        out = StringIO()
        call_command("create_demo_letter", stdout=out)
        call_command("create_demo_letter", stdout=out)
        assert "Created the demo letter" in out.getvalue()
        assert "Updated the demo letter" in out.getvalue()
        letter = Letter.objects.get()
        assert letter.is_accepting_signatures
        assert letter.professions.count() >= 10
        page = self.client.get(letter.get_absolute_url())
        self.assertContains(page, "Our work is not your training data")
        self.assertContains(page, 'name="full_name"')

    def test_with_signatories_lists_that_many_approved_named_people_once(self):
        out = StringIO()
        call_command("create_demo_letter", "--with-signatories", "200", stdout=out)
        call_command("create_demo_letter", "--with-signatories", "200", stdout=out)
        assert "Added 200 demo signatories" in out.getvalue()
        assert "Added 0 demo signatories" in out.getvalue()
        letter = Letter.objects.get()
        assert Signature.objects.listed().filter(letter=letter).count() == 200
        assert not Signature.objects.listed().filter(letter=letter, profession=None).exists()
        page = self.client.get(letter.get_absolute_url())
        self.assertContains(page, "<strong>200</strong> signatures", html=True)
        listed = self.client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug}))
        assert len(listed.context["page"].object_list) > 0
        assert "example.org" not in listed.content.decode()
