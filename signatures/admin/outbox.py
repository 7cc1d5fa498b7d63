"""The outbox in the admin: emails to signers as the worker sees them, and queuing failed ones again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from signatures import services
from signatures.admin.teams import LetterTeamAdmin
from signatures.models import OutgoingEmail, SuppressedAddress

# Everything about an email is shown, and none of it can be edited.
SHOWN_FIELDS = (
    "signature",
    "kind",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "last_attempt_at",
    "next_attempt_at",
    "sent_at",
    "message_id",
    "from_email",
    "to_email",
    "reply_to",
    "is_written",
    "subject",
    "body_text",
)


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(LetterTeamAdmin):
    """Emails to signers as the worker sees them; failed ones can be queued again."""

    letter_lookup = "signature__letter"

    list_display = ["kind", "status", "attempts", "created_at", "next_attempt_at", "sent_at", "short_error"]
    list_filter = ["status", "kind"]
    search_fields = ["to_email", "message_id"]
    ordering = ["-created_at"]
    show_full_result_count = False
    fields = SHOWN_FIELDS
    readonly_fields = SHOWN_FIELDS
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("last error"))
    def short_error(self, email: OutgoingEmail) -> str:
        return Truncator(email.last_error).chars(80)

    @admin.action(description=_("Queue the selected failed emails again"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[OutgoingEmail]) -> None:
        count = services.retry_failed_emails(email_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d email queued again.", "%(count)d emails queued again.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    """Addresses the mail provider reported as bouncing or complaining: nothing is sent to them. Delete to lift."""

    list_display = ["email_normalized", "reason", "provider", "created_at"]
    list_filter = ["reason", "provider"]
    search_fields = ["email_normalized"]
    ordering = ["-created_at"]
    fields = readonly_fields = ("email_normalized", "reason", "provider", "event_id", "description", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
