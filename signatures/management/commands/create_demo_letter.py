from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from signatures.models import Letter, Profession

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

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
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
