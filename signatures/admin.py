from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Letter, LetterTranslation, Profession, Signature, SignatureCounter, WatchlistEntry


class ProfessionInline(admin.TabularInline):
    model = Profession
    extra = 3
    fields = ["name", "position"]


class LetterTranslationInline(admin.StackedInline):
    """Visitors whose language matches read this text; everyone else reads the original."""

    model = LetterTranslation
    extra = 0
    fields = ["language", "title", "summary", "body"]


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "is_paused", "requires_moderation", "public_count", "created_at"]
    list_filter = ["status", "requires_moderation", "is_paused"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ProfessionInline, LetterTranslationInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "addressee", "summary", "body"]}),
        (_("Signing"), {"fields": ["status", "is_paused", "opens_at", "closes_at", "goal", "requires_moderation"]}),
        (_("Email"), {"fields": ["sender_name"]}),
    ]

    @admin.display(description=_("public count"))
    def public_count(self, letter: Letter) -> int:
        return letter.public_count


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = ["full_name", "letter", "state", "hold_reason", "profession", "created_at", "confirmed_at"]
    list_filter = ["state", "letter", "hold_reason", "is_verified", "is_notable"]
    search_fields = ["full_name", "email_normalized", "affiliation"]
    list_select_related = ["letter", "profession"]
    readonly_fields = [
        "state",
        "hold_reason",
        "created_at",
        "confirmed_at",
        "approved_at",
        "rejected_at",
        "withdrawn_at",
        "moderated_at",
        "moderated_by",
        "ip_hash",
    ]
    actions = ["approve", "reject"]

    @admin.action(description=_("Approve selected signatures"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Signature]) -> None:
        count = services.approve_signatures(
            signature_ids=queryset.values_list("pk", flat=True), moderator=request.user
        )
        self.message_user(request, _("%(count)d signatures approved.") % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Reject selected signatures"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Signature]) -> None:
        count = services.reject_signatures(signature_ids=queryset.values_list("pk", flat=True), moderator=request.user)
        self.message_user(request, _("%(count)d signatures rejected.") % {"count": count}, messages.SUCCESS)


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(admin.ModelAdmin):
    list_display = ["name", "note", "created_at"]
    search_fields = ["name"]


@admin.register(SignatureCounter)
class SignatureCounterAdmin(admin.ModelAdmin):
    list_display = ["letter", "key", "value"]
    list_filter = ["letter"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SignatureCounter | None = None) -> bool:
        return False
