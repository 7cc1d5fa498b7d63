"""
The admin's abuse-defence and privacy screens, and the admin site's own guards.

- Allow lists (networks, email domains) exempt signers from the hold limits;
  blocklists (domains, addresses) drop sign attempts silently.
- Caught submissions: the daily tally of dropped bot and blocklisted attempts.
- The privacy notice shown at /privacy/.
- "Erase an address": every trace of one email address, on its owner's request.
- Two-factor login (django-otp, TOTP): staff with a device must give a code;
  `SIGNATURES_STAFF_REQUIRE_2FA` makes a device mandatory for every staff member.

Imported by `signatures/admin.py`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.sites import AdminSite
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from django_otp.admin import OTPAdminAuthenticationForm

from . import services
from .models import AllowedDomain, AllowedNetwork, BlockedAddress, BlockedDomain, CaughtSubmission, PrivacyNotice


class StaffLoginForm(OTPAdminAuthenticationForm):
    """The admin login: a TOTP code is asked for once the password is right, if the person has a device."""

    def clean(self) -> dict[str, Any]:
        # The password check of AdminAuthenticationForm; the OTP step only when it applies.
        self.cleaned_data = super(OTPAdminAuthenticationForm, self).clean()
        user = self.get_user()
        if user is not None and (settings.SIGNATURES_STAFF_REQUIRE_2FA or user_has_device(user)):
            self.clean_otp(user)
        return self.cleaned_data


class StaffAdminSite(AdminSite):
    """admin.site, with two-factor login and the "erase an address" page."""

    login_form = StaffLoginForm
    login_template = "otp/admin111/login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        if user.is_verified():
            return True
        return not settings.SIGNATURES_STAFF_REQUIRE_2FA and not user_has_device(user)

    def get_urls(self) -> list:
        urls = [path("erase-address/", self.admin_view(erase_address_view), name="erase_address")]
        return urls + super().get_urls()


# Keep every registration made on admin.site, change only its behaviour (the
# way django-otp's documentation swaps in OTPAdminSite).
admin.site.__class__ = StaffAdminSite


class EraseAddressForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    confirm = forms.BooleanField(
        label=_("I understand this deletes the signatures of this address on every letter, for good.")
    )


def erase_address_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        return redirect("admin:index")
    form = EraseAddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        erased = services.erase_address(email=form.cleaned_data["email"])
        summary = ", ".join(f"{kind}: {count}" for kind, count in erased.items()) or _("nothing was stored")
        messages.success(request, _("Address erased (%(summary)s).") % {"summary": summary})
        return redirect("admin:erase_address")
    context = {**admin.site.each_context(request), "form": form, "title": _("Erase every trace of an address")}
    return TemplateResponse(request, "admin/signatures/erase_address.html", context)


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
class CaughtSubmissionAdmin(admin.ModelAdmin):
    list_display = ["day", "letter", "reason", "count"]
    list_filter = ["reason", "letter"]
    date_hierarchy = "day"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CaughtSubmission | None = None) -> bool:
        return False


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(admin.ModelAdmin):
    list_display = ["title", "version", "updated_at"]
    fields = ["title", "version", "body"]
