"""The outbox in the admin: emails to signers as the worker sees them, and queuing failed ones again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from signatures import emails, services
from signatures.models import OutgoingEmail

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
    "rendered_subject",
    "rendered_text",
)


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """Emails to signers as the worker sees them; failed ones can be queued again."""

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

    # The row keeps what the email is about; its text is drawn as the worker draws it when sending.
    @admin.display(description=_("subject"))
    def rendered_subject(self, email: OutgoingEmail) -> str:
        return emails.render_email(email)[0]

    @admin.display(description=_("text"))
    def rendered_text(self, email: OutgoingEmail) -> str:
        return emails.render_email(email)[1]

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
