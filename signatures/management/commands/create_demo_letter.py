# Real-world spellings (typographic apostrophes) on purpose.
# ruff: noqa: E501, RUF001
from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from signatures import services
from signatures.models import Letter, Profession, Signature

SLUG = "our-work-is-not-your-training-data"

BODY = """\
We write to you as people who make films, music and the work around them:
directors and editors, composers and session players, screenwriters, sound
engineers, animators, actors, producers and the crews who turn an idea into
something an audience can feel.

Every one of those works exists because someone spent years learning a craft
and months or years applying it. Copyright is how that labour is recognised
and paid. It is also how we decide, as authors, where our work goes and on
what terms.

Today our films, scores, recordings and scripts are being copied by the
million to train generative AI systems, **without permission, without
payment and without disclosure**. Those systems are then sold as
replacements for the very people whose work made them possible.

We are not against new tools. Many of us already use them. We are against
taking. We ask you to:

1. **Uphold copyright as it stands.** Do not introduce a new exception that
   lets AI developers copy protected works for training without a licence.
2. **Require transparency.** Developers must publish what works they trained
   on, in enough detail that authors can check and enforce their rights.
3. **Make consent the default.** An "opt-out" that no one can exercise in
   practice is not consent. Permission must be asked, not assumed.
4. **Keep authors at the table.** Licensing markets are already forming; make
   sure creators and their unions are part of them, and paid fairly.

Culture is not raw material. It is the work of people, and we ask you to
protect it.
"""

# Demo signatories: given and family names that go together, a place, sometimes a studio or union.
DEMO_PEOPLE = (
    (("Agnès", "Chloé", "Antoine", "Hélène", "Clément"), ("Lefèvre", "Girard", "Dubois", "Moreau", "Rousseau"), ("Paris", "France")),
    (("María", "Lucía", "Álvaro", "Inés", "Martín"), ("López", "García", "Martínez", "Núñez", "Jiménez"), ("Madrid", "Spain")),
    (("Jürgen", "Björn", "Dörte", "Anna", "Felix"), ("Müller", "Schäfer", "Köhler", "Krüger", "Weiß"), ("Berlin", "Germany")),
    (("Łukasz", "Zofia", "Wojciech", "Małgorzata", "Piotr"), ("Wiśniewski", "Kowalska", "Wójcik", "Dąbrowski", "Nowak"), ("Kraków", "Poland")),
    (("Siobhán", "Seán", "Aoife", "Niamh", "Eoghan"), ("O’Connor", "D’Arcy", "Ó Sé", "Byrne", "Kelly"), ("Dublin", "Ireland")),
    (("João", "Gonçalo", "Inês", "Beatriz", "Tiago"), ("Gonçalves", "Magalhães", "Simões", "Ferreira", "Costa"), ("Lisboa", "Portugal")),
    (("Kwame", "Ama", "Kofi", "Efua", "Yaw"), ("Mensah", "Owusu", "Boateng", "Asante", "Appiah"), ("Accra", "Ghana")),
    (("Priya", "Rahul", "Anushka", "Arjun", "Meera"), ("Sharma", "Raman", "Iyer", "Verma", "Nair"), ("Mumbai", "India")),
    (("Sakura", "Kenta", "Misaki", "Shota", "Yui"), ("Sato", "Suzuki", "Takahashi", "Tanaka", "Kore-eda"), ("Tokyo", "Japan")),
    (("Oliver", "Amelia", "Harry", "Isla", "Jack"), ("Bennett", "Smith", "Jones", "Taylor", "Brown"), ("Manchester", "United Kingdom")),
)  # fmt: skip
DEMO_AFFILIATIONS = ("", "", "", "Independent", "Musicians' Union", "Writers' Guild", "Studio Kite", "Ciné-Tamaris")

PROFESSIONS = [
    "Director",
    "Screenwriter",
    "Actor",
    "Producer",
    "Cinematographer",
    "Editor",
    "Composer",
    "Songwriter",
    "Musician",
    "Singer",
    "Sound engineer",
    "Animator",
    "Visual effects artist",
    "Production designer",
    "Crew member",
]


class Command(BaseCommand):
    help = "Create (or update) the demo letter used by `make run`. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--with-signatories",
            type=int,
            default=0,
            metavar="N",
            help="Make sure the letter lists at least N approved demo signatories (added once, never twice).",
        )

    @transaction.atomic
    def handle(self, *args: Any, with_signatories: int = 0, **options: Any) -> None:
        letter, created = Letter.objects.update_or_create(
            slug=SLUG,
            defaults={
                "title": "Our work is not your training data",
                "addressee": "The Minister for Culture and the Minister for Science and Technology",
                "summary": (
                    "Film and music professionals ask the government to uphold copyright "
                    "and require consent before creative work is used to train AI."
                ),
                "body": BODY,
                "status": Letter.Status.OPEN,
                "goal": 10_000,
                "requires_moderation": True,
                "sender_name": "Our work is not your training data",
            },
        )
        for position, name in enumerate(PROFESSIONS):
            Profession.objects.update_or_create(letter=letter, name=name, defaults={"position": position})
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} the demo letter at {letter.get_absolute_url()}"))
        if with_signatories > 0:
            added = self._add_signatories(letter, with_signatories)
            count = Letter.objects.get(pk=letter.pk).public_count
            self.stdout.write(f"Added {added} demo signatories; the letter counts {count:,} signatures.")

    def _add_signatories(self, letter: Letter, wanted: int) -> int:
        """
        Approved, listed signatories with professions, so a newcomer sees a
        letter that looks alive. Each has a fixed demo address, so a second
        run adds only the ones missing.
        """
        emails = [f"demo.signatory.{n}@example.org" for n in range(wanted)]
        existing = set(Signature.objects.filter(letter=letter, email__in=emails).values_list("email", flat=True))
        professions = list(letter.professions.all())
        rnd = random.Random(17)  # noqa: S311 (demo data, not a secret: the same people everywhere)
        now = timezone.now()
        new = []
        for n, email in enumerate(emails):
            given_names, family_names, (city, country) = DEMO_PEOPLE[n % len(DEMO_PEOPLE)]
            first, last = rnd.choice(given_names), rnd.choice(family_names)
            signed_at = now - timedelta(minutes=7 * (wanted - n))
            if email in existing:
                continue
            new.append(
                Signature(
                    letter=letter,
                    full_name=f"{first} {last}",
                    email=email,
                    email_normalized=email,
                    profession=professions[n % len(professions)] if professions else None,
                    affiliation=rnd.choice(DEMO_AFFILIATIONS),
                    city=city,
                    country=country,
                    wants_listing=True,
                    listing_consent_at=signed_at,
                    state=Signature.State.APPROVED,
                    confirmed_at=signed_at,
                    approved_at=signed_at,
                )
            )
        for signature in new:
            # save() derives the normalised email and the name key.
            signature.save()
        # Written without the per-row counter updates; the counters are then recounted in one go.
        services.recount_letter(letter=letter)
        return len(new)
