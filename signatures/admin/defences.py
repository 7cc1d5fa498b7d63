"""
The admin's abuse-defence and privacy screens.

- Allow lists (networks, email domains) exempt signers from the hold limits;
  blocklists (domains, addresses) drop sign attempts silently.
- Caught submissions: the daily tally of dropped bot and blocklisted attempts.
- The privacy notice shown at /privacy/.

The site itself (two-factor login, "erase an address") is `signatures.admin.site`.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from signatures.admin.teams import LetterTeamAdmin, LetterTeamFilter
from signatures.models import (
    AllowedDomain,
    AllowedNetwork,
    BlockedAddress,
    BlockedDomain,
    CaughtSubmission,
    PrivacyNotice,
)


@admin.register(AllowedNetwork)
class AllowedNetworkAdmin(admin.ModelAdmin):
    list_display = ["cidr", "note", "created_at"]
    search_fields = ["cidr", "note"]


@admin.register(AllowedDomain)
class AllowedDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "note", "created_at"]
    search_fields = ["domain", "note"]


@admin.register(BlockedDomain)
class BlockedDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "note", "created_at"]
    search_fields = ["domain", "note"]


@admin.register(BlockedAddress)
class BlockedAddressAdmin(admin.ModelAdmin):
    list_display = ["email_normalized", "note", "created_at"]
    search_fields = ["email_normalized", "note"]


@admin.register(CaughtSubmission)
class CaughtSubmissionAdmin(LetterTeamAdmin):
    list_display = ["day", "letter", "reason", "count"]
    list_filter = ["reason", ("letter", LetterTeamFilter)]
    date_hierarchy = "day"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CaughtSubmission | None = None) -> bool:
        return False


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(admin.ModelAdmin):
    list_display = ["title", "version", "updated_at"]
    fields = ["title", "version", "body"]
