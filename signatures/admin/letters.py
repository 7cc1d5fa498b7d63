"""
Letters in the admin: writing and publishing them, the founding phase and
its invitations, immutable text versions and the revision form, transparency
and the delivery record, pausing. Every change goes through `services`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from signatures import links, services
from signatures.admin.forms import ProfessionForm, PublishRevisionForm
from signatures.admin.site import staff_member
from signatures.admin.teams import LetterTeamAdmin, LetterTeamFilter
from signatures.models import (
    CustomQuestion,
    DigestSubscription,
    Invitation,
    Letter,
    LetterTranslation,
    LetterVersion,
    Profession,
    Signature,
    SignatureCounter,
)
from signatures.reports import activity_chart
from signatures.reports.overview import letter_overview
from signatures.revisions import diff_lines
from signatures.text import repeats_title

State = Signature.State


def invitation_link(invitation: Invitation) -> str:
    """The invitation's link in a field to copy from (it is shown, never emailed by us)."""
    if not invitation.pk:
        return gettext("Shown once saved.")
    if not invitation.is_usable:
        return gettext("No longer usable")
    url = links.invitation_url(invitation)
    return format_html('<input type="text" readonly value="{}" size="50" aria-label="{}">', url, gettext("link"))


def founding_counts(letter: Letter) -> dict[str, int]:
    """Founding signatures by state: a few hundred rows at most, counted on demand."""
    rows = Signature.objects.filter(letter=letter, is_founding=True).order_by().values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


class InvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    fields = ["label", "max_uses", "expires_at", "link", "use_count", "revoked_at"]
    readonly_fields = ["link", "use_count", "revoked_at"]
    verbose_name_plural = _("invitations (founding phase)")

    @admin.display(description=_("link"))
    def link(self, invitation: Invitation) -> str:
        return invitation_link(invitation)


class LetterVersionInline(admin.TabularInline):
    """Published texts are kept as they were: nobody may edit or delete one."""

    model = LetterVersion
    extra = 0
    fields = readonly_fields = ("number", "is_major", "change_note", "short_hash", "published_at", "published_by")
    ordering = ["-number"]
    verbose_name_plural = _("published versions of the text")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("SHA-256 (start)"))
    def short_hash(self, version: LetterVersion) -> str:
        return version.short_hash


TRUST_FIELDSETS: list[Any] = [
    (
        _("Founding phase"),
        {
            "fields": ["launch_at", "founding_summary"],
            "description": _(
                "Status “Founding”: only people with an invitation link (below) can read and sign; the public "
                "address answers 404 until launch. With a launch time, the letter goes public by itself then."
            ),
        },
    ),
    (_("Text versions"), {"fields": ["version_summary"]}),
    (_("Transparency"), {"fields": ["verification_text", "transparency_link"]}),
    (
        _("Delivery"),
        {
            "fields": ["delivered_at", "delivered_how", "delivery_summary"],
            "description": _("When you record a delivery, the count and the text version are kept with it."),
        },
    ),
]


class ProfessionInline(admin.TabularInline):
    model = Profession
    form = ProfessionForm
    extra = 3
    fields = ["name", "position"]


class CustomQuestionInline(admin.TabularInline):
    """Extra questions on the sign form; answers stay with the organizers unless a question is public."""

    model = CustomQuestion
    extra = 0
    fields = ["label", "kind", "choices", "is_required", "is_public", "position"]


class LetterTranslationInline(admin.StackedInline):
    """Visitors whose language matches read this text; everyone else reads the original."""

    model = LetterTranslation
    extra = 0
    fields = ["language", "title", "summary", "body"]


@admin.register(Letter)
class LetterAdmin(LetterTeamAdmin):
    letter_lookup = "pk"
    list_display = [
        "title",
        "status",
        "is_paused",
        "requires_moderation",
        "public_count",
        "awaiting_decision",
        "created_at",
        "founding_column",
    ]
    list_filter = ["status", "requires_moderation", "is_paused"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ProfessionInline, CustomQuestionInline, LetterTranslationInline, InvitationInline, LetterVersionInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "addressee", "summary", "body"]}),
        (_("Signing"), {"fields": ["status", "is_paused", "opens_at", "closes_at", "goal", "requires_moderation"]}),
        (_("Moderation team"), {"fields": ["moderators"]}),
        (_("Email"), {"fields": ["sender_name", "notifies_signers_when_counted"]}),
        (_("Sharing"), {"fields": ["embed_origins", "embed_snippet"]}),
        *TRUST_FIELDSETS,
    ]
    readonly_fields = [
        "founding_summary",
        "version_summary",
        "transparency_link",
        "delivery_summary",
        "embed_snippet",
    ]

    change_form_template = "admin/signatures/letter/change_form.html"
    actions = ["pause_signing", "resume_signing", "launch_now"]

    def get_readonly_fields(self, request: HttpRequest, obj: Letter | None = None) -> list[str]:
        # Who moderates what is the superusers' call: a team member could otherwise widen their own reach.
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "moderators"]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "moderators":
            kwargs["queryset"] = db_field.related_model.objects.filter(is_staff=True).order_by("username")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("public count"))
    def public_count(self, letter: Letter) -> int:
        return letter.public_count

    @admin.display(description=_("awaiting a decision"))
    def awaiting_decision(self, letter: Letter) -> str:
        waiting = SignatureCounter.value_for(letter, SignatureCounter.state_key(Signature.State.CONFIRMED))
        url = reverse("admin:signatures_signature_changelist") + f"?letter__id__exact={letter.pk}"
        return format_html('<a href="{}">{}</a>', url, waiting)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None):
        letter = self.get_object(request, unquote(object_id))
        if letter is not None and self.has_view_permission(request, letter):
            queue_url = reverse("admin:signatures_signature_changelist") + f"?letter__id__exact={letter.pk}"
            extra_context = {
                **(extra_context or {}),
                "overview": letter_overview(letter),
                "activity": [activity_chart.per_day(letter), activity_chart.per_hour(letter)],
                "queue_url": queue_url,
                "held_url": f"{queue_url}&status=held",
                "held_mail_url": f"{queue_url}&status=held_mail",
                "all_url": f"{queue_url}&status=all",
                "digest_subscribed": DigestSubscription.objects.filter(user=staff_member(request)).exists(),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list:
        return [
            path("digest/", self.admin_site.admin_view(self.digest_view), name="signatures_letter_digest"),
            path(
                "<path:object_id>/publish-revision/",
                self.admin_site.admin_view(self.publish_revision_view),
                name="signatures_letter_publish_revision",
            ),
            *super().get_urls(),
        ]

    def digest_view(self, request: HttpRequest) -> HttpResponse:
        """Opt in to (or out of) the daily moderation digest, for oneself."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("signatures.view_signature"):
            raise PermissionDenied
        subscribe = request.POST.get("subscribe") == "1"
        services.set_digest_subscription(user=staff_member(request), is_subscribed=subscribe)
        if subscribe:
            self.message_user(request, gettext("You will receive the moderation digest every day."))
        else:
            self.message_user(request, gettext("You will no longer receive the moderation digest."))
        next_url = request.POST.get("next", "")
        if not next_url.startswith("/") or next_url.startswith("//"):
            next_url = reverse("admin:signatures_letter_changelist")
        return redirect(next_url)

    def _set_paused(self, request: HttpRequest, queryset: QuerySet[Letter], *, is_paused: bool) -> int:
        changed = [letter for letter in queryset if services.set_letter_paused(letter=letter, is_paused=is_paused)]
        message = gettext("Signing paused.") if is_paused else gettext("Signing resumed.")
        LogEntry.objects.log_actions(
            user_id=staff_member(request).pk, queryset=changed, action_flag=CHANGE, change_message=message
        )
        return len(changed)

    @admin.action(
        description=_("Pause signing (the letter stays open; confirmations still work)"), permissions=["change"]
    )
    def pause_signing(self, request: HttpRequest, queryset: QuerySet[Letter]) -> None:
        count = self._set_paused(request, queryset, is_paused=True)
        self.message_user(request, ngettext("Paused %d letter.", "Paused %d letters.", count) % count)

    @admin.action(description=_("Resume signing"), permissions=["change"])
    def resume_signing(self, request: HttpRequest, queryset: QuerySet[Letter]) -> None:
        count = self._set_paused(request, queryset, is_paused=False)
        self.message_user(request, ngettext("Resumed %d letter.", "Resumed %d letters.", count) % count)

    # --- read-only summaries -------------------------------------------------

    @admin.display(description=_("founding signatures"))
    def founding_column(self, letter: Letter) -> str:
        if letter.status != Letter.Status.FOUNDING:
            return "-"
        counts = founding_counts(letter)
        return gettext("%(confirmed)d confirmed, %(approved)d approved") % {
            "confirmed": counts.get(State.CONFIRMED, 0),
            "approved": counts.get(State.APPROVED, 0),
        }

    @admin.display(description=_("founding signatures"))
    def founding_summary(self, letter: Letter) -> str:
        if not letter.pk:
            return "-"
        counts = founding_counts(letter)
        rows = [
            (gettext("awaiting email confirmation"), counts.get(State.SUBMITTED, 0)),
            (gettext("confirmed, awaiting a moderator"), counts.get(State.CONFIRMED, 0)),
            (gettext("approved"), counts.get(State.APPROVED, 0)),
            (gettext("rejected"), counts.get(State.REJECTED, 0)),
        ]
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}: <strong>{}</strong></li>", ((k, v) for k, v in rows))
        )

    @admin.display(description=_("published text"))
    def version_summary(self, letter: Letter) -> str:
        if not letter.pk:
            return "-"
        current = letter.current_version
        url = reverse("admin:signatures_letter_publish_revision", args=[letter.pk])
        if current is None:
            return format_html(
                '{} <a href="{}">{}</a>',
                gettext("Not published yet: the first version is published when the letter opens or is founding."),
                url,
                gettext("Publish now…"),
            )
        changed = current.content_hash != LetterVersion.hash_text(letter.title, letter.body)
        return format_html(
            '{} {} <code>{}</code>. {} <a href="{}">{}</a>',
            gettext("Version %d,") % current.number,
            gettext("SHA-256"),
            current.short_hash,
            gettext("The title or body has edits not yet published: readers still see the published version.")
            if changed
            else "",
            url,
            gettext("Publish a revision…"),
        )

    @admin.display(description=_("public pages"))
    def transparency_link(self, letter: Letter) -> str:
        if not letter.pk:
            return "-"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("signatures:transparency", args=[letter.slug]),
            gettext("How we verify and the moderation ledger"),
            reverse("signatures:letter_versions", args=[letter.slug]),
            gettext("Changes since publication"),
        )

    @admin.display(description=_("code for partner sites"))
    def embed_snippet(self, letter: Letter) -> str:
        if not letter.pk:
            return "-"
        url = links.absolute_url(reverse("signatures:embed", args=[letter.slug]))
        return format_html(
            '<code>{}</code><br>{} · <a href="{}">{}</a>',
            f'<iframe src="{url}" title="{escape(letter.title)}" width="360" height="320"></iframe>',
            gettext("Only the sites listed above can show it."),
            reverse("signatures:flyer", args=[letter.slug]),
            gettext("Printable flyer"),
        )

    @admin.display(description=_("delivery document"))
    def delivery_summary(self, letter: Letter) -> str:
        if not letter.pk:
            return "-"
        link = format_html(
            '<a href="{}">{}</a>', reverse("signatures:delivery", args=[letter.slug]), gettext("Printable document")
        )
        if letter.delivered_at is None:
            return link
        return format_html(
            "{} · {}",
            link,
            gettext("%(count)d signatures delivered, text version %(number)s")
            % {
                "count": letter.delivered_count or 0,
                "number": letter.delivered_version.number if letter.delivered_version else "-",
            },
        )

    # --- saving: every change through a service ------------------------------

    def save_model(self, request: HttpRequest, obj: Letter, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if repeats_title(obj.body, obj.title):
            # The page shows the title as its heading already: readers would see it twice.
            messages.warning(
                request,
                gettext(
                    "The body starts with a heading that repeats the title, so readers see the title twice. "
                    "Remove the first line of the body unless you want that."
                ),
            )
        if obj.status in (Letter.Status.FOUNDING, Letter.Status.OPEN):
            # Signers must always see, and sign, a published version.
            services.ensure_letter_version(letter=obj)
        if {"delivered_at", "delivered_how"} & set(form.changed_data):
            services.record_letter_delivery(
                letter=obj, delivered_at=obj.delivered_at, delivered_how=obj.delivered_how, by=staff_member(request)
            )

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is Profession:
            # Rows left without a position follow the ones before them, in the order typed.
            position = 0
            for inline_form in formset.forms:
                if not inline_form.has_changed() and not inline_form.instance.pk:
                    continue
                given = inline_form.cleaned_data.get("position")
                if given is None:
                    inline_form.instance.position = position
                else:
                    position = given
                position += 1
        if formset.model is not Invitation:
            super().save_formset(request, form, formset, change)
            return
        # Invitations are made by the service (it draws the secret's nonce),
        # and "deleting" one revokes it: who was invited stays on record.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deleted = set(formset.deleted_forms)
        for inline_form in formset.forms:
            instance = inline_form.instance
            if inline_form in deleted:
                if instance.pk:
                    services.revoke_invitations(invitation_ids=[instance.pk])
                    formset.changed_objects.append((instance, ["revoked_at"]))
                continue
            if not inline_form.has_changed():
                continue
            data = inline_form.cleaned_data
            if instance.pk is None:
                created = services.create_invitation(
                    letter=form.instance,
                    label=data["label"],
                    max_uses=data.get("max_uses"),
                    expires_at=data.get("expires_at"),
                    created_by=staff_member(request),
                )
                formset.new_objects.append(created)
            else:
                inline_form.save()
                formset.changed_objects.append((instance, inline_form.changed_data))

    # --- the revision form ---------------------------------------------------

    def publish_revision_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        letter = self.get_object(request, unquote(object_id))
        if letter is None:
            raise Http404
        if not self.has_change_permission(request, letter):
            raise PermissionDenied
        current = letter.current_version
        draft = LetterVersion(number=(current.number + 1) if current else 1, title=letter.title, body=letter.body)
        form = PublishRevisionForm(request.POST or None, initial={"is_major": "0"})
        if request.method == "POST" and form.is_valid():
            try:
                version = services.publish_letter_version(
                    letter=letter,
                    is_major=form.cleaned_data["is_major"],
                    note=form.cleaned_data["note"],
                    by=staff_member(request),
                )
            except services.NothingToPublish:
                self.message_user(request, gettext("The text has not changed since the last version."), messages.ERROR)
            else:
                flagged = Signature.objects.filter(letter=letter, needs_reaffirmation=True).count()
                LogEntry.objects.log_actions(
                    user_id=staff_member(request).pk,
                    queryset=[letter],
                    action_flag=CHANGE,
                    change_message=gettext("Published version %d.") % version.number,
                )
                message = gettext("Published version %d.") % version.number
                if version.is_major and version.number > 1:
                    message += (
                        " "
                        + ngettext(
                            "%d earlier signer is asked to re-affirm.",
                            "%d earlier signers are asked to re-affirm.",
                            flagged,
                        )
                        % flagged
                    )
                self.message_user(request, message, messages.SUCCESS)
            return redirect(reverse("admin:signatures_letter_change", args=[letter.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": letter,
            "title": gettext("Publish a revision of “%s”") % letter.title,
            "form": form,
            "current": current,
            "diff": diff_lines(current, draft),
            "now": timezone.now(),
        }
        return TemplateResponse(request, "admin/signatures/letter/publish_revision.html", context)

    @admin.action(description=_("Launch now (make founding letters public)"), permissions=["change"])
    def launch_now(self, request: HttpRequest, queryset: QuerySet[Letter]) -> None:
        launched = [letter for letter in queryset if services.launch_letter(letter=letter)]
        LogEntry.objects.log_actions(
            user_id=staff_member(request).pk,
            queryset=launched,
            action_flag=CHANGE,
            change_message=gettext("Launched."),
        )
        self.message_user(
            request, ngettext("Launched %d letter.", "Launched %d letters.", len(launched)) % len(launched)
        )


@admin.register(Invitation)
class InvitationAdmin(LetterTeamAdmin):
    list_display = ["label", "letter", "use_count", "max_uses", "expires_at", "revoked_at", "created_by", "created_at"]
    list_filter = [("letter", LetterTeamFilter), ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["label"]
    fields = ["letter", "label", "max_uses", "expires_at", "link", "use_count", "revoked_at", "created_by"]
    readonly_fields = ["link", "use_count", "revoked_at", "created_by"]
    actions = ["revoke"]

    @admin.display(description=_("link"))
    def link(self, invitation: Invitation) -> str:
        return invitation_link(invitation)

    def save_model(self, request: HttpRequest, obj: Invitation, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.create_invitation(
            letter=obj.letter,
            label=obj.label,
            max_uses=obj.max_uses,
            expires_at=obj.expires_at,
            created_by=staff_member(request),
        )
        obj.pk, obj.nonce = created.pk, created.nonce

    @admin.action(description=_("Revoke selected invitation links"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        count = services.revoke_invitations(invitation_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, ngettext("Revoked %d link.", "Revoked %d links.", count) % count)


@admin.register(LetterVersion)
class LetterVersionAdmin(LetterTeamAdmin):
    """Published texts, read-only: a version is never edited or deleted once published."""

    list_display = ["letter", "number", "is_major", "change_note", "published_at", "published_by"]
    list_filter = [("letter", LetterTeamFilter), "is_major"]
    readonly_fields = [f.name for f in LetterVersion._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LetterVersion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LetterVersion | None = None) -> bool:
        return False
