"""
Every public page, with demo data behind it: the HTML checker, the axe scan
and `make screenshots` all walk this one list. Add a page here when you add
one to the site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.management import call_command
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from signatures import services
from signatures.abuse.lists import name_hold
from signatures.models import CustomQuestion, Letter, LetterUpdate, Signature, WatchlistEntry
from signatures.tokens import Purpose, make_invitation_token, make_token
from tests.factories import make_letter, make_signature

DEMO_SLUG = "our-work-is-not-your-training-data"

NOTABLE = [
    ("Agnès Varda", "Director", "Ciné-Tamaris", "Paris", "France"),
    ("Hildur Guðnadóttir", "Composer", "", "Berlin", "Germany"),
    ("Bong Joon-ho", "Director", "Barunson E&A", "Seoul", "South Korea"),
]
RECENT = [
    ("María José López", "Editor", "Estudios Ribera", "Madrid", "Spain"),
    ("Kwame Mensah", "Sound engineer", "", "Accra", "Ghana"),
    ("Chloé Martin", "Screenwriter", "Guilde des scénaristes", "Lyon", "France"),
    ("Oliver Bennett", "Session musician", "Musicians' Union", "Manchester", "United Kingdom"),
    ("Priya Raman", "Animator", "Studio Kite", "Bengaluru", "India"),
    ("Tomás Ferreira", "Cinematographer", "", "Lisbon", "Portugal"),
]


@dataclass
class Page:
    """A page a member of the public can reach, and how to reach it."""

    name: str
    path: str
    method: str = "get"
    data: dict[str, Any] = field(default_factory=dict)
    status: int = 200


# Answers to the demo letter's questions: the public one shows on the list and
# in the exports, the private ones must appear on no public page or export.
PUBLIC_ANSWER = "Guild of Film Editors"
PRIVATE_ANSWER = "MEMBER-NO-7731-PRIVATE"
PRIVATE_CHOICE = "Paid-up member (private)"


def seed_custom_questions(letter: Letter) -> dict[str, str]:
    """A public question, a private text question, a private choice and a tick box: {str(id): answer}."""
    guild, _ = CustomQuestion.objects.get_or_create(
        letter=letter, label="Union or guild", defaults={"is_public": True, "position": 0}
    )
    number, _ = CustomQuestion.objects.get_or_create(letter=letter, label="Member number", defaults={"position": 1})
    status, _ = CustomQuestion.objects.get_or_create(
        letter=letter,
        label="Membership",
        defaults={"kind": CustomQuestion.Kind.CHOICE, "choices": f"{PRIVATE_CHOICE}\nLapsed", "position": 2},
    )
    tick, _ = CustomQuestion.objects.get_or_create(
        letter=letter, label="I am a working professional", defaults={"kind": CustomQuestion.Kind.CHECKBOX}
    )
    return {guild.key: PUBLIC_ANSWER, number.key: PRIVATE_ANSWER, status.key: PRIVATE_CHOICE, tick.key: True}


def seed_demo_letter() -> Letter:
    """The demo letter with notable and recent signatories, a second (closed) letter for the home page."""
    call_command("create_demo_letter", stdout=_Discard())
    letter = Letter.objects.get(slug=DEMO_SLUG)
    professions = {p.name: p for p in letter.professions.all()}
    answers = seed_custom_questions(letter)
    for index, (name, profession, affiliation, city, country) in enumerate(NOTABLE + RECENT):
        title = "" if profession in professions else profession
        make_signature(
            letter,
            Signature.State.APPROVED,
            full_name=name,
            email=f"demo{index}@example.org",
            profession=professions.get(profession) or professions.get("Musician"),
            title=title,
            affiliation=affiliation,
            city=city,
            country=country,
            is_notable=index < len(NOTABLE),
            is_verified=index < 2,
            answers=answers if index in (0, len(NOTABLE)) else {},
        )
    if not Letter.objects.filter(slug="protect-session-musicians").exists():
        make_letter(
            slug="protect-session-musicians",
            title="Fair pay for session musicians",
            summary="Session players ask the labels for a fair share of streaming revenue.",
            status=Letter.Status.CLOSED,
        )
    return letter


def pending_signature(letter: Letter, email: str) -> Signature:
    return make_signature(letter, full_name="Ada Lovelace", email=email)


def confirm_path(signature: Signature) -> str:
    return reverse("signatures:confirm", kwargs={"token": make_token(signature, Purpose.CONFIRM)})


def public_pages(letter: Letter) -> list[Page]:
    """Each public page once, in the states a visitor sees (the form in its error state too)."""
    slug = {"slug": letter.slug}
    return [
        Page("home", reverse("signatures:home")),
        Page("letter", letter.get_absolute_url()),
        Page("letter-form-errors", reverse("signatures:sign", kwargs=slug), "post", {"full_name": ""}, 400),
        Page("check-your-email", reverse("signatures:check_email", kwargs=slug)),
        Page("confirm", confirm_path(pending_signature(letter, "ada@example.org"))),
        Page("thank-you", confirm_path(pending_signature(letter, "ada2@example.org")), "post"),
        Page("link-invalid", reverse("signatures:confirm", kwargs={"token": "not-a-token"}), status=400),
        Page("signatories", reverse("signatures:signatories", kwargs=slug)),
        Page("signatories-search", reverse("signatures:signatories", kwargs=slug) + "?q=lopez"),
        *trust_pages(letter),
        *update_pages(letter),
        *_optional_pages(letter),
    ]


def _optional_pages(letter: Letter) -> list[Page]:
    """
    Pages of parts of the site that may be switched off or still in progress.
    (The count badge is not here: it is a fragment for other sites' iframes,
    with its own inline style and policy.)
    """
    wanted = [
        ("privacy", "signatures:privacy", {}),
        ("withdraw", "signatures:withdraw_request", {"slug": letter.slug}),
        ("api-docs", "signatures:api_docs", {}),
        ("embed", "signatures:embed", {"slug": letter.slug}),
        ("flyer", "signatures:flyer", {"slug": letter.slug}),
    ]
    pages = []
    for name, url_name, kwargs in wanted:
        try:
            pages.append(Page(name, reverse(url_name, kwargs=kwargs)))
        except NoReverseMatch:
            continue
    return pages


def trust_pages(letter: Letter) -> list[Page]:
    """The founding invitation, text versions, re-affirm, transparency and delivery pages."""

    slug = {"slug": letter.slug}
    first = services.ensure_letter_version(letter=letter)
    signer = Signature.objects.filter(letter=letter, email="grace@example.org").first() or make_signature(
        letter, Signature.State.CONFIRMED, full_name="Grace Hopper", email="grace@example.org", version=first
    )
    if letter.version_count < 2:
        letter.body += "\n\nWe will keep count of every answer."
        letter.save()
        services.publish_letter_version(letter=letter, is_major=True, note="A sentence on accountability")
    signer.refresh_from_db()
    delivered = Letter.objects.exclude(pk=letter.pk).filter(status=Letter.Status.CLOSED).first() or letter
    services.record_letter_delivery(letter=delivered, delivered_at=timezone.now(), delivered_how="By hand")
    founding = Letter.objects.filter(slug="before-the-launch").first() or make_letter(
        slug="before-the-launch", title="A letter before its launch", status=Letter.Status.FOUNDING
    )
    invitation = services.create_invitation(letter=founding, label="Demo invitee", created_by=None)
    return [
        Page("transparency", reverse("signatures:transparency", kwargs=slug)),
        Page("versions", reverse("signatures:letter_versions", kwargs=slug)),
        Page("version", reverse("signatures:letter_version", kwargs={**slug, "number": 2})),
        Page("reaffirm", reverse("signatures:reaffirm", kwargs={"token": make_token(signer, Purpose.REAFFIRM)})),
        Page("delivery", reverse("signatures:delivery", kwargs={"slug": delivered.slug})),
        Page("transparency-delivered", reverse("signatures:transparency", kwargs={"slug": delivered.slug})),
        Page("invitation", reverse("signatures:invitation", kwargs={"token": make_invitation_token(invitation)})),
    ]


def update_pages(letter: Letter) -> list[Page]:
    """The letter page with a published update under it, and the unsubscribe page an update email links to."""
    if not LetterUpdate.objects.filter(letter=letter).exists():
        update = LetterUpdate.objects.create(
            letter=letter,
            subject="Delivered to the ministry",
            body="We handed the letter and **every signature** to the ministry on Monday.",
        )
        services.publish_letter_update(update=update)
    subscriber = Signature.objects.filter(letter=letter, email="alan@example.org").first() or make_signature(
        letter, Signature.State.APPROVED, full_name="Alan Turing", email="alan@example.org", wants_updates=True
    )
    token = make_token(subscriber, Purpose.UNSUBSCRIBE)
    return [
        Page("letter-with-updates", letter.get_absolute_url()),
        Page("unsubscribe", reverse("signatures:unsubscribe", kwargs={"token": token})),
    ]


# The queue as moderators meet it: look-alikes of watchlist names with their
# match, a volume hold, and ordinary signatures with long details.
QUEUE = [
    ("Ѕаm Аltmаn", "openai-careers.example", "Signing for all of us at the lab.", ""),  # noqa: RUF001
    ("Dr. Sam Altman (OpenAI)", "gmail.example", "", ""),
    ("Jоhn Smith", "mail.example", "", ""),  # noqa: RUF001
    ("Lena Fischer", "uni-wien.example", "A long comment about why this letter matters to working composers.", ""),
    ("Ana Souza", "bulk-signups.example", "", Signature.HoldReason.DOMAIN_LIMIT),
    ("Kenji Watanabe", "studio-ghibli-fan.example", "", ""),
]


def seed_moderation_queue(letter: Letter) -> list[Signature]:
    """Confirmed signatures awaiting a decision on `letter`, held the way confirmation holds them."""
    WatchlistEntry.objects.get_or_create(
        name="Sam Altman", defaults={"verification_note": "Only through his office's press account."}
    )
    professions = list(letter.professions.all())
    signatures = []
    for index, (name, domain, comment, reason) in enumerate(QUEUE):
        hold = name_hold(name)
        signatures.append(
            make_signature(
                letter,
                Signature.State.CONFIRMED,
                full_name=name,
                email=f"queue{index}@{domain}",
                profession=professions[index % len(professions)],
                affiliation="Independent" if index % 2 else "Studio Nord",
                city=["Paris", "São Paulo", "Vienna", "Lagos", "Osaka", "Kraków"][index],
                country="",
                comment=comment,
                hold_reason=hold.reason if hold else reason,
                hold_detail=hold.detail if hold else "",
                held_for_entry_id=hold.entry_id if hold else None,
            )
        )
    return signatures


def moderation_pages(letter: Letter) -> list[Page]:
    """The moderator's pages (staff only): the queue, a held signature, the letter's overview."""
    held = Signature.objects.filter(letter=letter, hold_reason=Signature.HoldReason.WATCHLIST).first()
    queue = reverse("admin:signatures_signature_changelist")
    return [
        Page("admin-queue", queue),
        Page("admin-queue-letter", f"{queue}?letter__id__exact={letter.pk}"),
        Page("admin-signature", reverse("admin:signatures_signature_change", args=[held.pk])),
        Page("admin-letter-overview", reverse("admin:signatures_letter_change", args=[letter.pk])),
    ]


class _Discard:
    def write(self, *args: Any, **kwargs: Any) -> None:
        pass

    def flush(self) -> None:
        pass
