from __future__ import annotations

import hashlib
import ipaddress
import random
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from signatures.text import name_key, normalize_email, parse_embed_origins, render_markdown


class LetterQuerySet(models.QuerySet):
    def public(self) -> LetterQuerySet:
        """
        Letters anyone may read: open or closed, never drafts, and founding
        letters once their launch time has passed (even before a worker has
        flipped their status, so a launch never waits for someone to be awake).
        """
        return self.filter(Q(status__in=[Letter.Status.OPEN, Letter.Status.CLOSED]) | self._launched())

    def _launched(self) -> Q:
        return Q(status=Letter.Status.FOUNDING, launch_at__isnull=False, launch_at__lte=timezone.now())

    def visible_to(self, user) -> LetterQuerySet:
        """
        The letters a staff member moderates. Superusers, and staff on no
        letter's team, see every letter; once someone is put on a team they
        see only the letters whose team they are on.
        """
        letter_ids = Letter.team_letter_ids(user)
        return self if letter_ids is None else self.filter(pk__in=letter_ids)

    def launch_due(self) -> LetterQuerySet:
        """Founding letters whose scheduled launch time has passed."""
        return self.filter(self._launched())

    def with_translation(self, language: str | None) -> LetterQuerySet:
        """
        Each letter with its translation into `language` read in the same query,
        so `Letter.translated(language)` then needs no query of its own.
        """
        code = (language or "").lower()
        if not code:
            return self
        names = ("language", "title", "summary", "body", "body_html")
        if "-" not in code:
            # One language, so at most one translation per letter (a unique constraint): a
            # join. Django compiles it in half the CPU of five subqueries, on every page view.
            return self.annotate(
                translation=models.FilteredRelation("translations", condition=Q(translations__language=code)),
                translation_for=models.Value(code),
                **{f"translation_{name}": models.F(f"translation__{name}") for name in names},
            )
        # A regional variant ("pt-br") falls back to its base language's translation.
        found = LetterTranslation.objects.filter(
            letter=models.OuterRef("pk"), language__in=[code, code.split("-")[0]]
        ).order_by(models.Case(models.When(language=code, then=0), default=1))
        return self.annotate(
            translation_for=models.Value(code),
            **{f"translation_{name}": models.Subquery(found.values(name)[:1]) for name in names},
        )


LetterManagerBase = models.Manager.from_queryset(LetterQuerySet)


class LetterManager(LetterManagerBase):
    def get_queryset(self) -> LetterQuerySet:
        # The frozen delivered list can run to megabytes: read it only where it is served.
        return super().get_queryset().defer("delivered_list_csv", "delivered_pdf")  # type: ignore[return-value]


def validate_embed_origins(value: str) -> None:
    try:
        parse_embed_origins(value, allow_loopback_http=settings.SIGNATURES_EMBED_ALLOW_LOOPBACK_HTTP)
    except ValueError as error:
        raise ValidationError(
            _("“%(line)s” is not an origin like https://example.org or https://example.org:8443."),
            code="invalid_origin",
            params={"line": str(error)},
        ) from None


class Letter(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FOUNDING = "founding", _("Founding (invitation only)")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    slug = models.SlugField(
        _("slug"), max_length=80, unique=True, help_text=_("The letter's address: /letters/this-slug/.")
    )
    title = models.CharField(_("title"), max_length=200)
    addressee = models.CharField(_("addressee"), max_length=200, help_text=_("Whom the letter is to."))
    summary = models.CharField(
        _("summary"),
        max_length=300,
        help_text=_("One or two sentences, shown in share previews and on the home page."),
    )
    body = models.TextField(_("body"), help_text=_("Markdown. Raw HTML is removed when the letter is shown."))
    body_html = models.TextField(_("body (rendered)"), editable=False, default="")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    is_paused = models.BooleanField(
        _("signing paused"),
        default=False,
        help_text=_("Stops new signatures without closing the letter; pending confirmations still work."),
    )
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    goal = models.PositiveIntegerField(_("signature goal"), null=True, blank=True)
    requires_moderation = models.BooleanField(
        _("signatures need moderation"),
        default=True,
        help_text=_("If off, confirmed signatures are approved at once unless held for review."),
    )
    notifies_signers_when_counted = models.BooleanField(
        _("email signers when a moderator approves them"),
        default=False,
        help_text=_("Sends “Your signature is counted” to each signer a moderator approves."),
    )
    sender_name = models.CharField(
        _("sender name"), max_length=100, blank=True, help_text=_("Shown as the sender of this letter's emails.")
    )
    launch_at = models.DateTimeField(
        _("launch at"),
        null=True,
        blank=True,
        help_text=_("For a founding letter: when it becomes public by itself. Empty: launch by hand."),
    )
    verification_text = models.TextField(
        _("how we verify"),
        blank=True,
        help_text=_("Markdown, shown publicly: how the organizers check signatures."),
    )
    verification_html = models.TextField(_("how we verify (rendered)"), editable=False, default="")
    delivered_at = models.DateTimeField(
        _("delivered at"), null=True, blank=True, help_text=_("When the letter was handed to its addressee.")
    )
    delivered_how = models.CharField(
        _("delivered how"),
        max_length=300,
        blank=True,
        help_text=_("For example: handed to the minister's office; sent by registered post."),
    )
    delivered_count = models.PositiveIntegerField(_("count at delivery"), null=True, blank=True, editable=False)
    # The names delivered, frozen as CSV at delivery, so anyone can check later
    # that the published hash is that of the list the addressee received.
    delivered_list_csv = models.TextField(_("list delivered (CSV)"), blank=True, default="", editable=False)
    # Drawn once by the worker after the delivery is recorded: minutes of CPU for a large letter.
    delivered_pdf = models.BinaryField(_("PDF delivered"), blank=True, default=b"", editable=False)
    delivered_list_sha256 = models.CharField(
        _("SHA-256 of the list delivered"), max_length=64, blank=True, default="", editable=False
    )
    version_count = models.PositiveIntegerField(
        _("published versions"),
        default=0,
        editable=False,
        help_text=_("Kept with each publication, so public pages know without a query whether the text was revised."),
    )
    delivered_version = models.ForeignKey(
        "LetterVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("version delivered"),
    )
    moderators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="moderated_letters",
        verbose_name=_("moderation team"),
        help_text=_(
            "Staff who moderate this letter. Someone on any letter's team sees only their letters' signatures; "
            "superusers and staff on no team see every letter."
        ),
    )
    embed_origins = models.TextField(
        _("sites that may embed the letter"),
        blank=True,
        validators=[validate_embed_origins],
        help_text=_(
            "One origin per line, such as https://partner.example.org: only these sites may show the "
            "letter's sign widget (/embed/) in a frame."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LetterManager()

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True) | Q(opens_at__isnull=True) | Q(closes_at__gt=F("opens_at")),
                name="letter_closes_after_it_opens",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.body_html = render_markdown(self.body)
        self.verification_html = render_markdown(self.verification_text)
        if self.pk is not None and not kwargs.get("force_insert") and kwargs.get("update_fields") is None:
            # Only publishing a version changes version_count (with an F() update):
            # saving a copy loaded earlier must not write its old value back.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "version_count"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("signatures:letter", kwargs={"slug": self.slug})

    @staticmethod
    def team_letter_ids(user) -> frozenset[int] | None:
        """The ids of the letters whose team `user` is on, or None if they see every letter."""
        if user.is_superuser:
            return None
        letter_ids = frozenset(
            Letter.moderators.through.objects.filter(user_id=user.pk).values_list("letter_id", flat=True)
        )
        return letter_ids or None

    @property
    def embed_origin_list(self) -> list[str]:
        """The origins that may frame the embed; a line that no longer passes is left out, never trusted."""
        allow_http = settings.SIGNATURES_EMBED_ALLOW_LOOPBACK_HTTP
        origins = []
        for line in self.embed_origins.splitlines():
            try:
                origins += parse_embed_origins(line, allow_loopback_http=allow_http)
            except ValueError:
                continue
        return origins

    @property
    def effective_status(self) -> str:
        """The status the public sees: a founding letter past its launch time is open."""
        if self.status == self.Status.FOUNDING and self.launch_at is not None and self.launch_at <= timezone.now():
            return self.Status.OPEN
        return self.status

    @property
    def is_founding_phase(self) -> bool:
        return self.effective_status == self.Status.FOUNDING

    @cached_property
    def current_version(self) -> LetterVersion | None:
        return self.versions.order_by("-number").first()

    @cached_property
    def version_numbers(self) -> dict[int, int]:
        """{version id: number}, one small query however many signatories a page shows."""
        if self.version_count < 2:
            return {}
        return dict(self.versions.order_by().values_list("pk", "number"))

    @property
    def published_body_html(self) -> str:
        """The text signers see: the latest published version, not later unpublished edits."""
        version = self.current_version if self.version_count else None
        return version.body_html if version else self.body_html

    @property
    def is_accepting_signatures(self) -> bool:
        now = timezone.now()
        return (
            self.effective_status == self.Status.OPEN
            and not self.is_paused
            and (self.opens_at is None or self.opens_at <= now)
            and (self.closes_at is None or self.closes_at > now)
        )

    @property
    def has_not_opened_yet(self) -> bool:
        return (
            self.effective_status == self.Status.OPEN and self.opens_at is not None and self.opens_at > timezone.now()
        )

    @cached_property
    def public_count(self) -> int:
        return SignatureCounter.value_for(self, SignatureCounter.PUBLIC)

    @property
    def goal_percent(self) -> int | None:
        if not self.goal:
            return None
        return min(100, round(100 * self.public_count / self.goal))

    def translated(self, language: str | None) -> Letter | TranslatedLetter:
        """
        What a reader in `language` reads: the organizers' translation of this
        letter's title, summary and body when there is one, else the letter itself.
        """
        code = (language or "").lower()
        if not code:
            return self
        found: LetterTranslation | None
        if getattr(self, "translation_for", None) == code:
            # Read with the letter (`LetterQuerySet.with_translation`).
            read = {
                name: getattr(self, f"translation_{name}")
                for name in ("language", "title", "summary", "body", "body_html")
            }
            if not read["language"]:
                return self
            found = LetterTranslation(letter=self, **read)
        else:
            candidates = [code, code.split("-")[0]]
            by_language = {t.language: t for t in self.translations.filter(language__in=candidates)}
            found = next((by_language[c] for c in candidates if c in by_language), None)
        if found is None:
            return self
        return TranslatedLetter(self, found)

    @property
    def content_language(self) -> str:
        """The language of the text shown (for `lang` on the letter): the site's default for the original."""
        return settings.LANGUAGE_CODE


class TranslatedLetter:
    """
    A letter as a reader in another language sees it: the translation's
    title, summary and body over everything else of the letter. For pages
    only: it is not a model instance, so it cannot be saved or handed to a
    service by mistake; `letter` is the letter itself.
    """

    def __init__(self, letter: Letter, translation: LetterTranslation) -> None:
        self.letter = letter
        self.title = translation.title
        self.summary = translation.summary
        self.body = translation.body
        self.body_html = translation.body_html
        # The organizers translate the published text: readers see the translation.
        self.published_body_html = translation.body_html
        self.content_language = translation.language

    def __getattr__(self, name: str) -> Any:
        return getattr(self.letter, name)

    def __str__(self) -> str:
        return self.title


class Profession(models.Model):
    """A profession a signer can pick on one letter, in the organizers' order."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="professions", verbose_name=_("letter"))
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("profession")
        verbose_name_plural = _("professions")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "name"], name="unique_profession_name_per_letter"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomQuestion(models.Model):
    """
    A question the organizers add to one letter's sign form ("Union or
    guild", "Member number"). Answers are private to the organizers unless
    the question is marked public.
    """

    class Kind(models.TextChoices):
        TEXT = "text", _("Short text")
        CHECKBOX = "checkbox", _("Tick box")
        CHOICE = "choice", _("One of a list")

    MAX_ANSWER_LENGTH = 200

    letter = models.ForeignKey(
        Letter, on_delete=models.CASCADE, related_name="custom_questions", verbose_name=_("letter")
    )
    label = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.TEXT)
    choices = models.TextField(_("choices"), blank=True, help_text=_("For 'one of a list': one choice per line."))
    is_required = models.BooleanField(_("required"), default=False)
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Show the answer on the public list and in the public exports. Off: only organizers see it."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("custom question")
        verbose_name_plural = _("custom questions")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def key(self) -> str:
        """The key of this question's answer in `Signature.answers`."""
        return str(self.pk)

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self) -> None:
        if self.kind == self.Kind.CHOICE and not self.choice_list():
            raise ValidationError({"choices": _("List at least one choice, one per line.")})

    def display(self, answers: dict[str, Any]) -> str:
        """The answer as a person reads it ('' when there is none)."""
        value = answers.get(self.key)
        if self.kind == self.Kind.CHECKBOX:
            return str(_("Yes")) if value else ""
        return "" if value is None else str(value)


class ImportRun(models.Model):
    """
    One import of signatures gathered elsewhere (a CSV or XLSX file): the
    organizer's choices, the rows checked at the preview, and the progress of
    the background job that writes them.
    """

    class Consent(models.TextChoices):
        INVITE = "invite", _("Invite: each person confirms by email and chooses whether to be listed")
        ATTESTED = "attested", _("Attested: the organizers hold each person's consent")

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Previewed, not started")
        QUEUED = "queued", _("Waiting for the worker")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="import_runs", verbose_name=_("letter"))
    filename = models.CharField(_("file"), max_length=255)
    consent = models.CharField(_("consent"), max_length=16, choices=Consent.choices, default=Consent.INVITE)
    consent_note = models.CharField(
        _("consent note"),
        max_length=500,
        blank=True,
        help_text=_("For attested imports: where the consent is recorded (signed forms, the agent's emails)."),
    )
    wants_listing = models.BooleanField(
        _("list attested signers"),
        default=False,
        help_text=_("Attested only: the people agreed to be named publicly. Invited people choose for themselves."),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PREVIEW)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # The file as read (headers and cells), for the mapping step; the rows
    # that passed the preview; the preview's findings. Cleared once imported.
    table = models.JSONField(_("file contents"), default=dict, blank=True, editable=False)
    pending_rows = models.JSONField(_("rows to import"), default=list, blank=True, editable=False)
    report = models.JSONField(_("preview findings"), default=dict, blank=True, editable=False)
    is_previewed = models.BooleanField(_("previewed"), default=False, editable=False)
    total_rows = models.PositiveIntegerField(_("rows in the file"), default=0)
    valid_rows = models.PositiveIntegerField(_("rows to import"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    imported_count = models.PositiveIntegerField(_("signatures added"), default=0)
    skipped_count = models.PositiveIntegerField(
        _("skipped"), default=0, help_text=_("Rows whose address signed meanwhile.")
    )
    held_count = models.PositiveIntegerField(_("held for review"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(consent="attested") | ~Q(consent_note=""), name="attested_import_has_consent_note"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if not self.valid_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.valid_rows))


class SignatureQuerySet(models.QuerySet):
    def public(self) -> SignatureQuerySet:
        """Approved signatures: the ones that count."""
        return self.filter(state=Signature.State.APPROVED)

    def listed(self) -> SignatureQuerySet:
        """Approved signatures whose signers agreed to be named, in list order."""
        return self.public().filter(wants_listing=True).order_by(*Signature.PUBLIC_ORDER)

    def visible_to(self, user) -> SignatureQuerySet:
        """The signatures of the letters `user` moderates (`LetterQuerySet.visible_to`)."""
        letter_ids = Letter.team_letter_ids(user)
        return self if letter_ids is None else self.filter(letter_id__in=letter_ids)

    def awaiting_moderation(self) -> SignatureQuerySet:
        return self.filter(state=Signature.State.CONFIRMED).order_by("confirmed_at", "id")

    def wanting_updates(self) -> SignatureQuerySet:
        """Confirmed and approved signers who asked for updates (withdrawn and rejected ones are out)."""
        return self.filter(wants_updates=True, state__in=[Signature.State.CONFIRMED, Signature.State.APPROVED])


# The moderation queue's order: names that may impersonate someone first (0),
# then other holds (1), then the rest (2). Defined once, so the queue's ORDER BY
# and the index that serves it are the same expression.
NAME_HOLD_REASONS = ("watchlist", "mixed_script")
QUEUE_RANK = models.Case(
    models.When(hold_reason__in=NAME_HOLD_REASONS, then=models.Value(0)),
    models.When(~Q(hold_reason=""), then=models.Value(1)),
    default=models.Value(2),
)


class Signature(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted (awaiting email confirmation)")
        CONFIRMED = "confirmed", _("Confirmed (awaiting moderation)")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class HoldReason(models.TextChoices):
        NONE = "", _("Not held")
        WATCHLIST = "watchlist", _("Name on the watchlist")
        IP_LIMIT = "ip_limit", _("Many signatures from one network")
        DOMAIN_LIMIT = "domain_limit", _("Many signatures from one email domain")
        MIXED_SCRIPT = "mixed_script", _("Letters of several scripts in one word")

    class VerificationMethod(models.TextChoices):
        NONE = "", _("Not recorded")
        ORGANIZATION_DOMAIN = "organization_domain", _("Signed from their organisation's email domain")
        REPRESENTATIVE = "representative", _("Confirmed by their agent or representative")
        KNOWN_TO_ORGANIZERS = "known_to_organizers", _("Known personally to the organizers")
        PUBLIC_STATEMENT = "public_statement", _("Confirmed in a public statement")

    class RejectionCategory(models.TextChoices):
        OTHER = "", _("Not eligible or other reason")
        FRAUD = "fraud", _("Removed as fraudulent (impersonation or fake)")

    # Notable first, founding signatories next, then newest first; id breaks ties
    # so keyset pagination is stable.
    PUBLIC_ORDER = ("-is_notable", "-is_founding", "-approved_at", "-id")
    # consent_version of signatures the organizers brought in: invited people
    # choose listing when they confirm; attested ones were consented elsewhere.
    INVITED_BY_ORGANIZERS = "invited-by-organizers"
    ATTESTED_BY_ORGANIZERS = "attested-by-organizers"

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="signatures", verbose_name=_("letter"))
    full_name = models.CharField(_("full name"), max_length=120)
    name_key = models.CharField(
        _("name key"),
        max_length=120,
        editable=False,
        default="",
        help_text=_("Lowercase name without accents, for search and the watchlist."),
    )
    email = models.EmailField(_("email"), max_length=254, help_text=_("As the signer typed it."))
    email_normalized = models.EmailField(_("normalised email"), max_length=254, editable=False)
    email_domain = models.CharField(_("email domain"), max_length=254, editable=False, default="")
    profession = models.ForeignKey(
        Profession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatures",
        verbose_name=_("profession"),
    )
    title = models.CharField(_("title or role"), max_length=120, blank=True)
    affiliation = models.CharField(_("affiliation"), max_length=150, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    wants_listing = models.BooleanField(
        _("agreed to be listed"), default=False, help_text=_("Only signers who agreed are named publicly.")
    )
    listing_consent_at = models.DateTimeField(
        _("agreed to be listed at"), null=True, blank=True, help_text=_("When the signer ticked the listing box.")
    )
    wants_updates = models.BooleanField(
        _("wants updates"), default=False, help_text=_("Agreed to receive emails about this letter's progress.")
    )
    updates_consent_at = models.DateTimeField(
        _("agreed to updates at"), null=True, blank=True, help_text=_("When the signer ticked the updates box.")
    )
    consent_version = models.CharField(
        _("consent text version"),
        max_length=50,
        blank=True,
        default="",
        help_text=_("Which wording of the consent box and of the privacy notice the signer saw: 'box/notice'."),
    )
    language = models.CharField(_("language"), max_length=10, blank=True, help_text=_("For emails to the signer."))

    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SUBMITTED)
    hold_reason = models.CharField(
        _("held because"), max_length=20, choices=HoldReason.choices, default=HoldReason.NONE, blank=True
    )
    hold_detail = models.CharField(
        _("match"),
        max_length=300,
        blank=True,
        default="",
        help_text=_("Why the name was held, in words: 'possible match for Sam Altman: Cyrillic letters'."),
    )
    held_for_entry = models.ForeignKey(
        "WatchlistEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="held_signatures",
        verbose_name=_("matched watchlist entry"),
    )
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moderated by"),
    )
    rejection_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)
    rejection_category = models.CharField(
        _("rejection category"),
        max_length=16,
        choices=RejectionCategory.choices,
        default=RejectionCategory.OTHER,
        blank=True,
        help_text=_("Counted publicly in aggregate (the transparency ledger); never shown per person."),
    )

    is_verified = models.BooleanField(_("identity verified"), default=False)
    verification_method = models.CharField(
        _("verified how"), max_length=32, choices=VerificationMethod.choices, default="", blank=True
    )
    is_notable = models.BooleanField(_("notable"), default=False, help_text=_("Shown first on the public list."))
    is_founding = models.BooleanField(_("founding signatory"), default=False)
    version = models.ForeignKey(
        "LetterVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatures",
        verbose_name=_("text version signed"),
        help_text=_("The published text the signer saw and signed (or last re-affirmed)."),
    )
    needs_reaffirmation = models.BooleanField(
        _("needs re-affirmation"),
        default=False,
        help_text=_("Signed an earlier text before a major revision; the signer was asked to re-affirm."),
    )
    reaffirmed_at = models.DateTimeField(_("re-affirmed at"), null=True, blank=True)

    ip_hash = models.CharField(
        _("IP hash"), max_length=64, blank=True, default="", help_text=_("Salted hash of the submitter's IP address.")
    )

    # Signatures gathered before the site (by agents, guilds, unions) and
    # brought in by organizers. Attested ones count apart on the public ledger.
    added_by_organizers = models.BooleanField(
        _("added by organizers"),
        default=False,
        help_text=_("The organizers hold this person's consent (a signed form, an agent's email)."),
    )
    consent_note = models.CharField(
        _("consent note"), max_length=500, blank=True, help_text=_("How the organizers obtained the consent.")
    )
    import_run = models.ForeignKey(
        "ImportRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signatures",
        verbose_name=_("import"),
    )
    # Answers to the letter's custom questions, {str(question id): value}: a
    # JSON object works the same on SQLite and PostgreSQL, and a question the
    # organizers delete later leaves nothing to migrate.
    answers = models.JSONField(_("answers"), default=dict, blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-created_at"]
        permissions = [
            ("moderate_signature", "Can moderate signatures"),
            ("export_signature", "Can export signatures with email addresses"),
        ]
        constraints = [
            # Withdrawn signatures have their email erased, so they are left out.
            models.UniqueConstraint(
                fields=["letter", "email_normalized"],
                condition=~Q(state="withdrawn"),
                name="one_signature_per_email_per_letter",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["submitted", "confirmed", "approved", "rejected", "withdrawn"]),
                name="signature_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="submitted") | Q(confirmed_at__isnull=True, approved_at__isnull=True),
                name="submitted_signature_has_no_later_timestamps",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["confirmed", "approved"]) | Q(confirmed_at__isnull=False),
                name="confirmed_signature_has_confirmed_at",
            ),
            models.CheckConstraint(
                condition=~Q(state="approved") | Q(approved_at__isnull=False),
                name="approved_signature_has_approved_at",
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | Q(rejected_at__isnull=False),
                name="rejected_signature_has_rejected_at",
            ),
            models.CheckConstraint(
                condition=~Q(state="withdrawn") | Q(withdrawn_at__isnull=False),
                name="withdrawn_signature_has_withdrawn_at",
            ),
            models.CheckConstraint(
                condition=Q(state="withdrawn") | ~Q(email_normalized=""),
                name="signature_has_email_unless_withdrawn",
            ),
            models.CheckConstraint(
                condition=Q(added_by_organizers=False) | ~Q(consent_note=""),
                name="organizer_added_signature_has_consent_note",
            ),
        ]
        indexes = [
            # The public list, in display order, overall and per profession.
            models.Index(
                "letter",
                F("is_notable").desc(),
                F("is_founding").desc(),
                F("approved_at").desc(),
                F("id").desc(),
                condition=Q(state="approved", wants_listing=True),
                name="signature_public_list_idx",
            ),
            models.Index(
                "letter",
                "profession",
                F("is_notable").desc(),
                F("is_founding").desc(),
                F("approved_at").desc(),
                F("id").desc(),
                condition=Q(state="approved", wants_listing=True),
                name="signature_profession_list_idx",
            ),
            # The moderation queue (oldest first) and state filters.
            models.Index(fields=["state", "confirmed_at", "id"], name="signature_queue_idx"),
            models.Index(fields=["letter", "state", "created_at"], name="signature_letter_state_idx"),
            models.Index(fields=["state", "created_at"], name="signature_state_created_idx"),
            # Abuse limits and bulk invalidation look up by domain and IP hash.
            models.Index(fields=["letter", "email_domain", "created_at"], name="signature_domain_idx"),
            models.Index(fields=["letter", "ip_hash", "created_at"], name="signature_ip_hash_idx"),
            models.Index(fields=["name_key"], name="signature_name_key_idx"),
            # The admin's changelist: the queue per letter, newest first
            # overall, the held/verified/notable filters, and prefix search
            # on email (the pattern opclass lets LIKE 'x%' use it).
            models.Index(fields=["letter", "state", "confirmed_at", "id"], name="signature_letter_queue_idx"),
            models.Index(fields=["created_at", "id"], name="signature_created_idx"),
            models.Index(fields=["letter", "created_at"], name="signature_letter_created_idx"),
            # The moderation queue in its order, for one letter and for all: read the
            # first hundred from the index instead of sorting every confirmed row.
            models.Index(
                "letter", QUEUE_RANK, "confirmed_at", "id", condition=Q(state="confirmed"), name="signature_rank_idx"
            ),
            models.Index(
                QUEUE_RANK, "confirmed_at", "id", condition=Q(state="confirmed"), name="signature_all_rank_idx"
            ),
            # Held = confirmed with a hold reason: the "held for review" queue, oldest first.
            models.Index(
                fields=["confirmed_at", "id"],
                condition=Q(state="confirmed") & ~Q(hold_reason=""),
                name="signature_held_queue_idx",
            ),
            models.Index(fields=["created_at", "id"], condition=Q(is_verified=True), name="signature_verified_idx"),
            models.Index(fields=["created_at", "id"], condition=Q(is_notable=True), name="signature_notable_idx"),
            models.Index(
                fields=["email_normalized"], opclasses=["varchar_pattern_ops"], name="signature_email_prefix_idx"
            ),
            # Sending an update walks a letter's opted-in signers in id order, a batch at a time.
            models.Index(fields=["letter", "id"], condition=Q(wants_updates=True), name="signature_wants_updates_idx"),
        ]

    def __str__(self) -> str:
        # Never the email: this string reaches logs and the admin's history.
        # The label from the enum, not get_state_display(), which rebuilds a dict of
        # every choice on each call: the queue calls this once per row.
        state = self.state if self.state not in Signature.State.values else Signature.State(self.state).label
        return f"{self.full_name} ({state})"

    def save(self, *args, **kwargs) -> None:
        self.derive_fields()
        super().save(*args, **kwargs)

    def derive_fields(self) -> None:
        """The fields kept for search and limits; also called before a bulk_create, which skips save()."""
        self.name_key = name_key(self.full_name)
        if self.email_normalized and "@" in self.email_normalized:
            self.email_domain = self.email_normalized.rsplit("@", 1)[1]

    def counter_keys(self) -> set[str]:
        """The counters this signature, in its current state, adds one to."""
        keys = {SignatureCounter.state_key(self.state)}
        if self.state == self.State.CONFIRMED and self.hold_reason:
            keys.add(SignatureCounter.HELD)
        if self.state == self.State.REJECTED and self.rejection_category:
            # The public ledger counts removals as fraudulent apart from other rejections.
            keys.add(SignatureCounter.rejected_key(self.rejection_category))
        if self.state == self.State.APPROVED:
            keys.add(SignatureCounter.PUBLIC)
            if self.added_by_organizers:
                keys.add(SignatureCounter.ADDED_BY_ORGANIZERS)
            if self.wants_listing:
                keys.add(SignatureCounter.LISTED)
                if self.profession_id:
                    keys.add(SignatureCounter.profession_key(self.profession_id))
        return keys

    @property
    def is_invited_by_organizers(self) -> bool:
        return self.consent_version == self.INVITED_BY_ORGANIZERS

    @property
    def profession_label(self) -> str:
        parts = [p for p in (self.profession.name if self.profession else "", self.title) if p]
        return ", ".join(parts)

    @property
    def location(self) -> str:
        return ", ".join(p for p in (self.city, self.country) if p)


class SignatureCounter(models.Model):
    """
    Exact per-letter tallies, changed in the same transaction as the signature
    whose state they count, so the letter page never counts a million rows.

    Each tally is split over up to SHARDS rows: a writer adds to one shard
    picked at random, readers sum them. Everyone signing one letter at once
    would otherwise wait, one after the other, for the lock on one row until
    the holder commits (bench/SCALING.md). A shard may go below zero (a
    withdrawal taken from another shard than its signing went to); the sum
    never does.
    """

    SHARDS = 16

    # Every counter key comes from here; nothing else spells one.
    PUBLIC = "public"
    LISTED = "listed"
    HELD = "held"
    ADDED_BY_ORGANIZERS = "added_by_organizers"

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="counters", verbose_name=_("letter"))
    key = models.CharField(
        _("key"),
        max_length=64,
        help_text=_("'public', 'listed', 'state:<state>', 'held', 'added_by_organizers' or 'profession:<id>'."),
    )
    shard = models.PositiveSmallIntegerField(_("shard"), default=0)
    value = models.BigIntegerField(_("value"), default=0)

    class Meta:
        verbose_name = _("signature counter")
        verbose_name_plural = _("signature counters")
        constraints = [
            models.UniqueConstraint(fields=["letter", "key", "shard"], name="unique_counter_shard_per_letter"),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id}:{self.key}[{self.shard}]={self.value}"

    @classmethod
    def value_for(cls, letter: Letter, key: str) -> int:
        return cls.objects.filter(letter=letter, key=key).aggregate(total=Sum("value"))["total"] or 0

    @classmethod
    def values_for(cls, letter: Letter) -> dict[str, int]:
        totals = cls.objects.filter(letter=letter).order_by().values("key").annotate(total=Sum("value"))
        return {row["key"]: row["total"] for row in totals}

    @classmethod
    def random_shard(cls) -> int:
        return random.randrange(cls.SHARDS)  # noqa: S311 (spreading writes, not a secret)

    @staticmethod
    def state_key(state: str) -> str:
        return f"state:{state}"

    @staticmethod
    def profession_key(profession_id: int) -> str:
        return f"profession:{profession_id}"

    @staticmethod
    def rejected_key(category: str) -> str:
        return f"rejected:{category}"


class LimitWindow(models.Model):
    """
    One fixed window of one abuse limit, and how many events it has seen
    (`signatures.abuse.windows`; unused when the shared cache is Redis). The
    key is a keyed hash of the subject: no address is stored in plain form.
    """

    TABLE = "signatures_limit_window"

    key = models.CharField(_("key"), max_length=120, primary_key=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        db_table = "signatures_limit_window"
        verbose_name = _("limit window")
        verbose_name_plural = _("limit windows")

    def __str__(self) -> str:
        return f"{self.key}={self.count}"


class WatchlistEntry(models.Model):
    """A name likely to be impersonated: matching signatures wait for a moderator."""

    name = models.CharField(_("name"), max_length=120)
    name_key = models.CharField(_("name key"), max_length=120, unique=True, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # A TextField of lines rather than a related table or an ArrayField: one
    # form field to edit, and the same on SQLite and PostgreSQL.
    aliases = models.TextField(
        _("aliases"),
        blank=True,
        help_text=_(
            "Other names this person is known by, one per line: a stage name, a birth name, a transliteration."
        ),
    )
    verification_note = models.TextField(
        _("how to verify"),
        blank=True,
        help_text=_("How a signature in this name will be checked: through their agent, an official account."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("watchlist entry")
        verbose_name_plural = _("watchlist")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # name_key is not a form field, so the unique constraint alone would
        # surface as an IntegrityError (a 500) for "GUILLERMO DEL TORO" beside
        # "Guillermo del Toro"; say it on the name instead.
        duplicates = WatchlistEntry.objects.filter(name_key=name_key(self.name)).exclude(pk=self.pk)
        if self.name and duplicates.exists():
            raise ValidationError({"name": _("An entry for this name already exists.")}, code="duplicate")

    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]


class LetterTranslation(models.Model):
    """An organizer's translation of a letter's text; visitors in that language read it instead."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="translations", verbose_name=_("letter"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300)
    body = models.TextField(_("body"), help_text=_("Markdown. Raw HTML is removed when the letter is shown."))
    body_html = models.TextField(_("body (rendered)"), editable=False, default="")

    class Meta:
        verbose_name = _("translation")
        verbose_name_plural = _("translations")
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "language"], name="one_translation_per_language_per_letter"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    def save(self, *args, **kwargs) -> None:
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)


class LetterVersion(models.Model):
    """
    One published text of a letter, kept forever and never edited: a
    signature points at the version its signer saw, and the content hash lets
    anyone check that a delivered or archived copy is the text they signed.
    """

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="versions", verbose_name=_("letter"))
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    body_html = models.TextField(_("body (rendered)"))
    content_hash = models.CharField(_("SHA-256 of the text"), max_length=64)
    is_major = models.BooleanField(
        _("major revision"),
        default=False,
        help_text=_("A change of substance: earlier signers are asked to re-affirm."),
    )
    change_note = models.CharField(_("what changed"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("letter version")
        verbose_name_plural = _("letter versions")
        ordering = ["letter", "number"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "number"], name="unique_version_number_per_letter"),
            models.CheckConstraint(condition=Q(number__gte=1), name="version_number_from_one"),
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.short_hash})"

    def get_absolute_url(self) -> str:
        return reverse("signatures:letter_version", kwargs={"slug": self.letter.slug, "number": self.number})

    @staticmethod
    def hash_text(title: str, body: str) -> str:
        return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]


class Invitation(models.Model):
    """
    A private link that lets invitees read and sign a letter in its founding
    phase. The link's secret is an HMAC of a random nonce stored here, so the
    database alone never reveals a working link, and the admin can show the
    link again at any time.
    """

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("letter"))
    label = models.CharField(
        _("label"), max_length=200, help_text=_("Whom it is for, e.g. 'Jane Doe' or 'Shared link for the guild'.")
    )
    nonce = models.CharField(_("nonce"), max_length=64, editable=False)
    max_uses = models.PositiveIntegerField(
        _("maximum uses"), null=True, blank=True, help_text=_("Signatures it may start. Empty: no limit.")
    )
    use_count = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(use_count__lte=F("max_uses")),
                name="invitation_uses_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_usable(self) -> bool:
        return (
            self.revoked_at is None
            and (self.expires_at is None or self.expires_at > timezone.now())
            and (self.max_uses is None or self.use_count < self.max_uses)
        )


class SurgeFlag(models.Model):
    """
    Many signatures in an hour from one email domain or one IP hash: a moderator
    should look. One open flag per surge; a rerun of the check updates it.
    """

    class Kind(models.TextChoices):
        EMAIL_DOMAIN = "email_domain", _("One email domain")
        IP_HASH = "ip_hash", _("One network (IP hash)")

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="surge_flags", verbose_name=_("letter"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.CharField(_("domain or IP hash"), max_length=254)
    window_start = models.DateTimeField(_("first seen in the hour from"))
    signature_count = models.PositiveIntegerField(_("signatures in the busiest hour"))
    created_at = models.DateTimeField(_("flagged at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )

    class Meta:
        verbose_name = _("surge flag")
        verbose_name_plural = _("surge flags")
        ordering = ["-created_at"]
        constraints = [
            # While a flag is open, a continuing surge updates it instead of raising another.
            models.UniqueConstraint(
                fields=["letter", "kind", "value"],
                condition=Q(reviewed_at__isnull=True),
                name="one_open_flag_per_surge",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value} ({self.signature_count}/h)"


class InvalidationRun(models.Model):
    """The record of one bulk invalidation: who ran it, when, on what criteria, and how many it rejected."""

    letter = models.ForeignKey(
        Letter, on_delete=models.CASCADE, related_name="invalidation_runs", verbose_name=_("letter")
    )
    email_domain = models.CharField(_("email domain"), max_length=254, blank=True)
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True)
    name_pattern = models.CharField(
        _("name pattern"), max_length=120, blank=True, help_text=_("A name; * stands for any characters.")
    )
    created_from = models.DateTimeField(_("signed from"), null=True, blank=True)
    created_until = models.DateTimeField(_("signed before"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    previewed_count = models.PositiveIntegerField(_("previewed count"), default=0)
    signature_count = models.PositiveIntegerField(_("signatures rejected"), default=0)
    public_count = models.PositiveIntegerField(_("of which were public"), default=0)
    ran_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ran by"),
    )
    ran_at = models.DateTimeField(_("ran at"), default=timezone.now)

    class Meta:
        verbose_name = _("invalidation run")
        verbose_name_plural = _("invalidation runs")
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.letter_id}: {self.signature_count} rejected at {self.ran_at:%Y-%m-%d %H:%M}"

    @property
    def criteria(self) -> str:
        parts = []
        if self.email_domain:
            parts.append(f"domain={self.email_domain}")
        if self.ip_hash:
            parts.append(f"ip_hash={self.ip_hash[:12]}…")
        if self.name_pattern:
            parts.append(f"name={self.name_pattern}")
        if self.created_from:
            parts.append(f"from={self.created_from:%Y-%m-%d %H:%M}")
        if self.created_until:
            parts.append(f"until={self.created_until:%Y-%m-%d %H:%M}")
        return ", ".join(parts)


class DigestSubscription(models.Model):
    """A staff member who asked for the daily moderation digest by email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="moderation_digest",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("subscribed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("digest subscription")
        verbose_name_plural = _("digest subscriptions")

    def __str__(self) -> str:
        return str(self.user)


class OutgoingEmailQuerySet(models.QuerySet):
    def queued(self) -> OutgoingEmailQuerySet:
        """Emails not sent yet that a worker will (re)try: queued, or being sent right now."""
        return self.filter(status__in=[OutgoingEmail.Status.QUEUED, OutgoingEmail.Status.SENDING])

    def failed(self) -> OutgoingEmailQuerySet:
        return self.filter(status=OutgoingEmail.Status.FAILED)

    def held(self) -> OutgoingEmailQuerySet:
        """Emails of sign attempts that tripped an abuse limit, waiting for a moderator to release them."""
        return self.filter(status=OutgoingEmail.Status.HELD)


class OutgoingEmail(models.Model):
    """
    An email to a signer, written in the same transaction as the change it is
    about (pretix's outbox idea): a mail server that is down or slow never
    loses or delays a signature. A worker sends it and retries with backoff;
    resends keep the same Message-ID. Deleted with its signature.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # The address bounced or complained before: never sent, never retried.
        SUPPRESSED = "suppressed", _("Suppressed (address bounced or complained)")
        # The sign attempt tripped an abuse limit: nothing goes out until a moderator releases it.
        HELD = "held", _("Held for a moderator")

    class Kind(models.TextChoices):
        CONFIRM = "confirm_signature", _("Confirm your signature")
        ALREADY_SIGNED = "already_signed", _("You have already signed")
        WITHDRAW = "withdraw_signature", _("Withdraw your signature")
        PUBLIC = "signature_public", _("Your signature is public")
        REVISION_NOTICE = "revision_notice", _("The text you signed has changed")
        LETTER_UPDATE = "letter_update", _("An update about the letter")
        IMPORT_INVITE = "import_invite", _("You were added by the organizers: confirm")

    signature = models.ForeignKey(
        Signature, on_delete=models.CASCADE, related_name="outgoing_emails", verbose_name=_("signature")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    message_id = models.CharField(
        _("Message-ID"), max_length=255, unique=True, help_text=_("Fixed at creation: a resend carries the same one.")
    )
    from_email = models.CharField(_("from"), max_length=320)
    to_email = models.EmailField(_("to"), max_length=254)
    reply_to = models.CharField(_("reply-to"), max_length=254, blank=True)
    # Blank until written: a message that follows from its signature alone is
    # written when first sent (signatures/email_rendering.py), then kept.
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    is_written = models.BooleanField(
        _("written"),
        default=True,
        help_text=_("Subject and text are written when the email is first sent; a resend sends the same."),
    )

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_until = models.DateTimeField(
        _("claimed until"),
        null=True,
        blank=True,
        help_text=_("While a worker sends it; after this another worker may take it over."),
    )
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    headers = models.JSONField(
        _("extra headers"),
        default=dict,
        blank=True,
        help_text=_("This message's own headers (List-Unsubscribe)."),
    )
    update = models.ForeignKey(
        "LetterUpdate",
        # Deleting an update stops what is still queued of it.
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("letter update"),
    )

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sending", "sent", "failed", "suppressed", "held"]),
                name="outgoing_email_status_valid",
            ),
            # An update reaches each signature at most once, however often its sending is resumed.
            models.UniqueConstraint(
                fields=["update", "signature"],
                condition=Q(update__isnull=False),
                name="one_email_per_update_per_signature",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="sent_email_has_sent_at"
            ),
        ]
        indexes = [
            # The worker and monitoring look at what is still to send, oldest first.
            models.Index(fields=["status", "next_attempt_at"], name="outgoing_email_due_idx"),
            # Caps on how many emails one signature may cause.
            models.Index(fields=["signature", "kind", "created_at"], name="outgoing_email_signature_idx"),
        ]

    def __str__(self) -> str:
        # Never the address: this string reaches logs and the admin's history.
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"


class LetterUpdateQuerySet(models.QuerySet):
    def published(self) -> LetterUpdateQuerySet:
        return self.filter(published_at__isnull=False).order_by("-published_at", "-id")


class LetterUpdate(models.Model):
    """
    News for signers ("delivered to the minister on…"): shown under the letter
    once published, and emailed to the signers who asked for updates.
    """

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="updates", verbose_name=_("letter"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), help_text=_("Markdown, like the letter's text."))
    body_html = models.TextField(_("body (HTML)"), editable=False, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    send_requested_at = models.DateTimeField(
        _("sending asked for at"), null=True, blank=True, help_text=_("When an organizer asked to email it.")
    )
    sent_at = models.DateTimeField(
        _("queued for every signer at"),
        null=True,
        blank=True,
        help_text=_("When the last batch of emails was queued; the worker sends them."),
    )

    objects = LetterUpdateQuerySet.as_manager()

    class Meta:
        verbose_name = _("letter update")
        verbose_name_plural = _("letter updates")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(send_requested_at__isnull=True) | Q(published_at__isnull=False),
                name="sent_update_is_published",
            ),
        ]
        indexes = [models.Index(fields=["letter", "published_at"], name="letter_update_published_idx")]

    def __str__(self) -> str:
        return self.subject

    def save(self, *args, **kwargs) -> None:
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)


class SuppressedAddress(models.Model):
    """
    An address the mail provider told us not to write to again (a hard bounce,
    a spam complaint, an unsubscribe from everything): every send skips it, so
    one bad list cannot ruin the sending domain's reputation.
    """

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Hard bounce")
        COMPLAINED = "complained", _("Spam complaint")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from all mail")

    email_normalized = models.EmailField(_("normalised email"), max_length=254, unique=True)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    event_id = models.CharField(_("provider event id"), max_length=255, blank=True)
    description = models.CharField(_("provider's description"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("suppressed at"), default=timezone.now)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=["bounced", "complained", "unsubscribed"]), name="suppression_reason_valid"
            ),
        ]

    def __str__(self) -> str:
        # Never the address: this string reaches logs and the admin's history.
        return f"{self.get_reason_display()} #{self.pk}"


# --- abuse defences and privacy ---------------------------------------------


class AllowedNetwork(models.Model):
    """A network (CIDR) whose signers are never held for the per-IP limits: a studio, a union office."""

    cidr = models.CharField(
        _("network"), max_length=49, unique=True, help_text=_("An address or a CIDR range, e.g. 192.0.2.0/24.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allowed network")
        verbose_name_plural = _("allowed networks")
        ordering = ["cidr"]

    def __str__(self) -> str:
        return self.cidr

    def clean(self) -> None:

        try:
            self.cidr = str(ipaddress.ip_network(self.cidr.strip(), strict=False))
        except ValueError as exc:
            raise ValidationError({"cidr": _("Enter an IP address or a CIDR range such as 192.0.2.0/24.")}) from exc


class _DomainEntry(models.Model):
    domain = models.CharField(
        _("domain"), max_length=253, unique=True, help_text=_("Also covers its subdomains, e.g. example.org.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs) -> None:
        self.domain = self.domain.strip().strip(".").lower().removeprefix("@")
        super().save(*args, **kwargs)


class AllowedDomain(_DomainEntry):
    """An email domain whose signers are never held for the per-domain limit."""

    class Meta(_DomainEntry.Meta):
        verbose_name = _("allowed email domain")
        verbose_name_plural = _("allowed email domains")


class BlockedDomain(_DomainEntry):
    """An email domain whose sign attempts are silently dropped."""

    class Meta(_DomainEntry.Meta):
        verbose_name = _("blocked email domain")
        verbose_name_plural = _("blocked email domains")


class BlockedAddress(models.Model):
    """An email address whose sign attempts are silently dropped."""

    email_normalized = models.EmailField(_("email address"), max_length=254, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked email address")
        verbose_name_plural = _("blocked email addresses")
        ordering = ["email_normalized"]

    def __str__(self) -> str:
        return self.email_normalized

    def save(self, *args, **kwargs) -> None:

        self.email_normalized = normalize_email(self.email_normalized)
        super().save(*args, **kwargs)


class CaughtSubmission(models.Model):
    """
    How many sign attempts were dropped per letter, day and reason. Nothing
    about the attempt itself is kept: only the tally, for organizers.
    """

    class Reason(models.TextChoices):
        HONEYPOT = "honeypot", _("Filled the hidden field")
        TOO_FAST = "too_fast", _("Sent faster than a person can type")
        BAD_STAMP = "bad_stamp", _("Form stamp missing or forged")
        REUSED_STAMP = "reused_stamp", _("Form stamp sent more than once")
        BLOCKED_DOMAIN = "blocked_domain", _("Email domain on the blocklist")
        BLOCKED_ADDRESS = "blocked_address", _("Email address on the blocklist")

    letter = models.ForeignKey(
        Letter, on_delete=models.CASCADE, related_name="caught_submissions", verbose_name=_("letter")
    )
    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("caught submission tally")
        verbose_name_plural = _("caught submissions")
        ordering = ["-day", "letter", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "day", "reason"], name="one_caught_tally_per_letter_day_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.reason}: {self.count}"


class PrivacyNotice(models.Model):
    """The privacy notice shown at /privacy/; the newest one is the one in force."""

    title = models.CharField(_("title"), max_length=200, default="Privacy notice")
    body = models.TextField(_("body"), help_text=_("Markdown. Raw HTML is removed when the notice is shown."))
    body_html = models.TextField(_("body (rendered)"), editable=False, default="")
    version = models.CharField(
        _("version"),
        max_length=20,
        help_text=_("Recorded with each signature, e.g. 2026-11. Change it when you edit."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("privacy notice")
        verbose_name_plural = _("privacy notices")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    def save(self, *args, **kwargs) -> None:
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> PrivacyNotice | None:
        return cls.objects.order_by("-updated_at", "-id").first()
