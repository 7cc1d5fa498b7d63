"""
Updates to signers in the admin: write one, preview it, send a test to
yourself, publish it under the letter, and email it to the signers who
asked for updates (a background job; its progress shows here).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from signatures import services
from signatures.admin.site import staff_member
from signatures.models import LetterUpdate, OutgoingEmail, Signature

Status = OutgoingEmail.Status


@admin.register(LetterUpdate)
class LetterUpdateAdmin(admin.ModelAdmin):
    list_display = ["subject", "letter", "published_at", "sent_at", "progress"]
    list_filter = ["letter"]
    search_fields = ["subject"]
    ordering = ["-created_at"]
    fields = ["letter", "subject", "body", "preview", "progress", "published_at", "send_requested_at", "sent_at"]
    readonly_fields = ["preview", "progress", "published_at", "send_requested_at", "sent_at", "created_by"]
    actions = ["send_test", "publish", "send_to_signers"]

    def get_readonly_fields(self, request: HttpRequest, obj: LetterUpdate | None = None) -> list[str]:
        # Once emailing has begun, what signers get must match what the page shows.
        if obj is not None and obj.send_requested_at is not None:
            return ["letter", "subject", "body", *self.readonly_fields]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: LetterUpdate, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = staff_member(request)
        super().save_model(request, obj, form, change)

    @admin.display(description=_("preview"))
    def preview(self, update: LetterUpdate) -> str:
        if not update.pk:
            return gettext("Shown once saved.")
        # body_html is rendered and sanitised like the letter's text (signatures/text.py).
        return format_html('<div class="letter-update-preview">{}</div>', mark_safe(update.body_html))

    @admin.display(description=_("emails"))
    def progress(self, update: LetterUpdate) -> str:
        if not update.pk or update.send_requested_at is None:
            wanting = Signature.objects.wanting_updates().filter(letter_id=update.letter_id).count()
            return ngettext(
                "Not sent; %(count)d signer wants updates.", "Not sent; %(count)d signers want updates.", wanting
            ) % {"count": wanting}
        counts = update.emails.aggregate(
            queued=Count("pk"),
            sent=Count("pk", filter=Q(status=Status.SENT)),
            failed=Count("pk", filter=Q(status=Status.FAILED)),
            suppressed=Count("pk", filter=Q(status=Status.SUPPRESSED)),
        )
        remaining = 0 if update.sent_at else services.update_recipients(update).count()
        return gettext(
            "%(queued)d queued (%(remaining)d still to queue): %(sent)d sent, %(failed)d failed, "
            "%(suppressed)d suppressed."
        ) % {**counts, "remaining": remaining}

    @admin.action(description=_("Send a test of the selected update to my email"), permissions=["change"])
    def send_test(self, request: HttpRequest, queryset: QuerySet[LetterUpdate]) -> None:
        for update in queryset.select_related("letter")[:5]:
            if services.send_letter_update_test(update=update, user=staff_member(request)):
                self.message_user(
                    request, gettext("Test of “%(subject)s” sent to your email.") % {"subject": update.subject}
                )
            else:
                self.message_user(
                    request,
                    gettext("No test sent: your account has no email address, or it is suppressed."),
                    messages.WARNING,
                )

    @admin.action(description=_("Publish the selected updates on the letter page (no email)"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[LetterUpdate]) -> None:
        count = sum(services.publish_letter_update(update=update) for update in queryset)
        self.message_user(
            request, ngettext("%(count)d update published.", "%(count)d updates published.", count) % {"count": count}
        )

    @admin.action(
        description=_("Publish and email the selected updates to signers who asked for updates"),
        permissions=["change"],
    )
    def send_to_signers(self, request: HttpRequest, queryset: QuerySet[LetterUpdate]) -> None:
        count = sum(services.request_letter_update_sending(update=update) for update in queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d update is being emailed; its progress shows in the list.",
                "%(count)d updates are being emailed; their progress shows in the list.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
