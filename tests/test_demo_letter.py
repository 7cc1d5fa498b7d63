from io import StringIO

from django.core.management import call_command
from django.test import TestCase

from signatures.models import Letter


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
