# Look-alike characters are what these tests are about.
# ruff: noqa: RUF001
"""
On a letter that lists confirmed signatures at once, a name a reader could
take for someone on the watchlist (or a word mixing alphabets) waits for a
moderator instead: signed and confirmed the way a person does, it is not on
the public list nor in the count. Adding a name to the watchlist pulls an
already listed look-alike off the list.
"""

from __future__ import annotations

from unittest import mock

from django.core import mail
from django.test import TestCase, override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from signatures import services
from signatures.caching import organizer_data
from signatures.models import Signature, SignatureCounter, WatchlistEntry
from signatures.services import moderation
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.helpers import path_of_link

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}

FAMOUS = (
    "Sam Altman",
    "Guillermo del Toro",
    "Taylor Swift",
    "Meryl Streep",
    "Hayao Miyazaki",
    "Björk Guðmundsdóttir",
    "Paul McCartney",
    "Hirokazu Kore-eda",
    "Greta Gerwig",
    "Yo-Yo Ma",
    "Chimamanda Ngozi Adichie",
    "Lin-Manuel Miranda",
)

# One signer per test client: the per-network limits would otherwise hold
# every signature after the fifth for a reason of their own.
NO_LIMITS = override_settings(
    SIGNATURES_LIMIT_SIGN_IP_BURST="0",
    SIGNATURES_LIMIT_SIGN_IP_SUSTAINED="0",
    SIGNATURES_LIMIT_SIGN_DOMAIN="0",
    SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP="0",
)


@NO_LIMITS
class SigningAsSomeoneOnTheWatchlistTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=False)
        for name in FAMOUS:
            WatchlistEntry.objects.create(name=name)

    def sign_and_confirm(self, full_name: str, email: str):
        """Sign through the form, open the emailed link, press the button; return the confirmation page."""
        mail.outbox.clear()
        sign_url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(sign_url, sign_data(self.letter, full_name=full_name, email=email))
        [message] = mail.outbox
        confirm_path = path_of_link(message, "/confirm/")
        self.assertContains(self.client.get(confirm_path), "Confirm my signature")
        return self.client.post(confirm_path)

    def public_list(self):
        return self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))

    def assert_held(self, names: list[str], *, famous: str, reason: str):
        for n, name in enumerate(names):
            email = f"held-{abs(hash(name))}-{n}@example.org"
            response = self.sign_and_confirm(name, email)
            # The signer is thanked as anyone else: a hold is not announced to an impersonator.
            self.assertContains(response, "Thank you for signing")
            signature = Signature.objects.get(email_normalized=email)
            assert signature.state == Signature.State.CONFIRMED, name
            assert signature.hold_reason == Signature.HoldReason.WATCHLIST, name
            assert signature.held_for_entry.name == famous, (name, signature.hold_detail)
            assert signature.hold_detail.startswith(f"possible match for {famous}:"), signature.hold_detail
            assert reason in signature.hold_detail, (name, signature.hold_detail)
            self.assertNotContains(self.public_list(), name)
        assert self.letter.counters.filter(key="public").values_list("value", flat=True).first() in (None, 0)

    def test_cyrillic_look_alike_letters_are_held(self):
        self.assert_held(["Ѕаm Аltmаn", "S\u0430m Altman"], famous="Sam Altman", reason="Cyrillic letters")

    def test_greek_look_alike_letters_are_held(self):
        self.assert_held(["Τaylor Swift"], famous="Taylor Swift", reason="Greek letters")
        self.assert_held(["Ρaul McCartney"], famous="Paul McCartney", reason="Greek letters")

    def test_full_width_letters_are_held(self):
        self.assert_held(["Ｓａｍ Ａｌｔｍａｎ"], famous="Sam Altman", reason="full-width letters")

    def test_mathematical_letters_are_held(self):
        self.assert_held(["𝖳𝖺𝗒𝗅𝗈𝗋 𝖲𝗐𝗂𝖿𝗍"], famous="Taylor Swift", reason="mathematical letters")

    def test_digits_for_letters_are_held(self):
        self.assert_held(["Sam A1tman", "5am Altman"], famous="Sam Altman", reason="digits for letters")

    def test_letter_pairs_that_read_as_one_letter_are_held(self):
        self.assert_held(["Sam Altrnan"], famous="Sam Altman", reason="'rn' for 'm'")
        self.assert_held(["Taylor Svvift"], famous="Taylor Swift", reason="'vv' for 'w'")

    def test_invisible_fillers_are_held(self):
        # A Hangul filler is a letter to the form but draws nothing.
        self.assert_held(["Sam Alt\u3164man"], famous="Sam Altman", reason="invisible characters")

    def test_zero_width_characters_are_refused_by_the_form_and_never_listed(self):
        sign_url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        response = self.client.post(sign_url, sign_data(self.letter, full_name="Sam Alt\u200bman"))
        self.assertContains(response, "invisible or control characters", status_code=400)
        assert not Signature.objects.exists()
        assert mail.outbox == []

    def test_unusual_spaces_are_held(self):
        self.assert_held(["Sam\u00a0Altman", "Sam\u3000Altman"], famous="Sam Altman", reason="")

    def test_titles_are_held(self):
        self.assert_held(["Dr. Sam Altman", "Sam Altman PhD"], famous="Sam Altman", reason="title")

    def test_descriptors_are_held(self):
        self.assert_held(["Sam Altman, CEO", "Sam Altman (OpenAI)"], famous="Sam Altman", reason="descriptor")

    def test_reordered_names_are_held(self):
        self.assert_held(["del Toro, Guillermo"], famous="Guillermo del Toro", reason="reordered")

    def test_initials_are_held(self):
        self.assert_held(["G. del Toro"], famous="Guillermo del Toro", reason="initials")
        self.assert_held(["S. Altman"], famous="Sam Altman", reason="initials")

    def test_extra_names_are_held(self):
        self.assert_held(["Taylor Alison Swift"], famous="Taylor Swift", reason="extra names")

    def test_an_unrelated_realistic_name_is_listed_at_once(self):
        for n, name in enumerate(["Agnès Varda", "Samuel Altmann-Okoro", "Taylor Smith", "Paul McCarthy"]):
            self.sign_and_confirm(name, f"real{n}@example.org")
            self.assertContains(self.public_list(), name)
        assert not Signature.objects.exclude(hold_reason="").exists()
        page = self.client.get(self.letter.get_absolute_url())
        self.assertContains(page, "<strong>4</strong> signatures")

    def test_the_queue_shows_why_a_name_was_held(self):
        self.sign_and_confirm("Ѕаm Аltmаn", "held@example.org")
        self.client.force_login(make_staff())
        queue = self.client.get(reverse("admin:signatures_signature_changelist"))
        self.assertContains(queue, "possible match for Sam Altman: Cyrillic letters")
        self.assertContains(queue, 'class="hold-badge hold-watchlist"')


@NO_LIMITS
class MixedScriptNamesTests(TestCase):
    def test_a_word_mixing_alphabets_is_held_on_a_letter_with_an_empty_watchlist(self):
        letter = make_letter(requires_moderation=False)
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("signatures:sign", kwargs={"slug": letter.slug}),
                sign_data(letter, full_name="Jоhn Smith", email="john@example.org"),
            )
        self.client.post(path_of_link(mail.outbox[0], "/confirm/"))
        signature = Signature.objects.get()
        assert signature.state == Signature.State.CONFIRMED
        assert signature.hold_reason == Signature.HoldReason.MIXED_SCRIPT
        assert signature.hold_detail == "Cyrillic letters in a Latin name"
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug}))
        self.assertNotContains(listing, "Jоhn Smith")

    def test_a_name_in_one_other_alphabet_is_listed(self):
        letter = make_letter(requires_moderation=False)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("signatures:sign", kwargs={"slug": letter.slug}),
                sign_data(letter, full_name="Анна Ахматова", email="anna@example.org"),
            )
        self.client.post(path_of_link(mail.outbox[0], "/confirm/"))
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug}))
        self.assertContains(listing, "Анна Ахматова")


class AddingToTheWatchlistTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=False)
        cls.other_letter = make_letter(requires_moderation=False)
        cls.look_alike = make_signature(cls.letter, Signature.State.APPROVED, full_name="Ѕаm Аltmаn")
        cls.on_other_letter = make_signature(cls.other_letter, Signature.State.APPROVED, full_name="Dr. Sam Altman")
        cls.verified = make_signature(cls.letter, Signature.State.APPROVED, full_name="Sam Altman", is_verified=True)
        cls.unrelated = make_signature(cls.letter, Signature.State.APPROVED, full_name="Agnès Varda")

    def list_page(self, letter):
        return self.client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug}))

    def post_and_run_the_worker(self, url, data):
        # The tests' task backend runs a job as soon as it is enqueued: the worker's work, at once.
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(url, data, follow=True)

    def test_adding_an_entry_pulls_a_listed_match_off_the_list_and_the_count(self):
        self.assertContains(self.list_page(self.letter), "Ѕаm Аltmаn")
        self.assertContains(self.client.get(self.letter.get_absolute_url()), "<strong>3</strong> signatures")

        self.client.force_login(make_staff())
        response = self.post_and_run_the_worker(
            reverse("admin:signatures_watchlistentry_add"),
            {"name": "Sam Altman", "aliases": "", "note": "", "verification_note": "Through his office."},
        )
        self.assertContains(response, "being re-read against this entry")
        self.client.logout()

        self.assertNotContains(self.list_page(self.letter), "Ѕаm Аltmаn")
        self.assertNotContains(self.list_page(self.other_letter), "Dr. Sam Altman")
        # A person already checked the verified one; the unrelated name stays.
        self.assertContains(self.list_page(self.letter), "Agnès Varda")
        self.assertContains(self.client.get(self.letter.get_absolute_url()), "<strong>2</strong> signatures")
        self.look_alike.refresh_from_db()
        assert self.look_alike.state == Signature.State.CONFIRMED
        assert self.look_alike.hold_detail == "possible match for Sam Altman: Cyrillic letters"

    def test_adding_an_alias_to_an_entry_rechecks_too(self):
        entry = WatchlistEntry.objects.create(name="Samuel H. Altman-Fictional")
        self.client.force_login(make_staff())
        self.post_and_run_the_worker(
            reverse("admin:signatures_watchlistentry_change", args=[entry.pk]),
            {"name": entry.name, "aliases": "Agnès Varda", "note": "", "verification_note": ""},
        )
        self.assertNotContains(self.list_page(self.letter), "Agnès Varda")
        watchlist = self.client.get(reverse("admin:signatures_watchlistentry_changelist"))
        self.assertContains(watchlist, '<td class="field-held_count">1</td>', html=True)

    @override_settings(TASKS=DATABASE_TASKS)
    def test_the_save_answers_at_once_and_the_worker_does_the_reading(self):
        self.client.force_login(make_staff())
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("admin:signatures_watchlistentry_add"),
                {"name": "Sam Altman", "aliases": "", "note": "", "verification_note": ""},
                follow=True,
            )
        self.assertContains(response, "being re-read against this entry")
        # Nothing is held by the request itself: the job waits for the worker.
        self.assertContains(self.list_page(self.letter), "Ѕаm Аltmаn")
        job = DBTaskResult.objects.get()
        assert job.task_path == "signatures.services.moderation.recheck_watchlist_job"
        # What the worker does with the queued job (its command would close this test's connection).
        assert job.task.call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"]) == 2
        self.assertNotContains(self.list_page(self.letter), "Ѕаm Аltmаn")
        self.assertNotContains(self.list_page(self.other_letter), "Dr. Sam Altman")

    def test_a_recheck_reads_every_batch(self):
        others = [make_signature(self.letter, Signature.State.APPROVED, full_name=f"Sam Altman {n}") for n in range(5)]
        entry = WatchlistEntry.objects.create(name="Sam Altman")
        with mock.patch.object(moderation, "RECHECK_BATCH", 2):
            held = services.recheck_watchlist(entry=entry)
        # The five extra-name matches, the Cyrillic look-alike, the titled one on the other letter.
        assert held == 7
        for signature in others:
            signature.refresh_from_db()
            assert signature.hold_reason == Signature.HoldReason.WATCHLIST
        assert SignatureCounter.value_for(self.letter, SignatureCounter.PUBLIC) == 2
        assert SignatureCounter.value_for(self.letter, SignatureCounter.HELD) == 6


class RecheckPrefilterTests(TestCase):
    def test_names_with_no_plain_word_of_the_entry_still_reach_the_matcher(self):
        letter = make_letter(requires_moderation=False)
        disguised = ["Ｓａｍ Ａｌｔｍａｎ", "𝐒𝐚𝐦 𝐀𝐥𝐭𝐦𝐚𝐧", "5am A1tman", "Ѕаm Аltmаn"]
        for name in disguised:
            make_signature(letter, Signature.State.APPROVED, full_name=name)
        make_signature(letter, Signature.State.APPROVED, full_name="José Núñez")
        entry = WatchlistEntry.objects.create(name="Sam Altman")
        assert services.recheck_watchlist(entry=entry) == len(disguised)
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug}))
        self.assertContains(listing, "José Núñez")
        for name in disguised:
            self.assertNotContains(listing, name)


class KeptWatchlistTests(TestCase):
    @override_settings(SIGNATURES_ORGANIZER_DATA_SECONDS=60)
    def test_a_new_entry_is_matched_at_once_even_while_the_watchlist_is_kept(self):
        assert organizer_data.watchlist() == []
        entry = WatchlistEntry.objects.create(name="Greta Gerwig", aliases="G. Gerwig")
        assert organizer_data.watchlist() == [(entry.pk, "Greta Gerwig", ("G. Gerwig",))]
        entry.delete()
        assert organizer_data.watchlist() == []
