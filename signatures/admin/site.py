"""
The admin site (`UndersignedAdminConfig.default_site`, so `admin.site` is this):

- Two-factor login (django-otp, TOTP): staff with a device must give a code;
  `SIGNATURES_STAFF_REQUIRE_2FA` makes a device mandatory for every staff member.
- "Erase an address": every trace of one email address, on its owner's request.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from django_otp.admin import OTPAdminAuthenticationForm

from signatures import services


class StaffLoginForm(OTPAdminAuthenticationForm):
    """The admin login: a TOTP code is asked for once the password is right, if the person has a device."""

    def clean(self) -> dict[str, Any]:
        # The password check of AdminAuthenticationForm; the OTP step only when it applies.
        self.cleaned_data = super(OTPAdminAuthenticationForm, self).clean()
        user = self.get_user()
        if user is not None and (settings.SIGNATURES_STAFF_REQUIRE_2FA or user_has_device(user)):
            self.clean_otp(user)
        return self.cleaned_data


def staff_member(request: HttpRequest) -> User:
    """Who is at the admin: only signed-in staff get past `UndersignedAdminSite.has_permission`."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class EraseAddressForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    confirm = forms.BooleanField(
        label=_("I understand this deletes the signatures of this address on every letter, for good.")
    )


class UndersignedAdminSite(AdminSite):
    """The admin as organizers and moderators know it: two-factor login and the "erase an address" page."""

    site_header = _("Undersigned moderation")
    site_title = _("Undersigned moderation")
    index_title = _("Letters, signatures and defences")
    login_form = StaffLoginForm
    login_template = "otp/admin111/login.html"

    # Third-party apps by what they do for organizers, not by their package names.
    APP_NAMES = {
        "axes": _("Sign-in protection"),
        "otp_totp": _("Two-factor devices"),
        "django_otp": _("Two-factor devices"),
        "django_tasks_database": _("Background tasks"),
    }

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            app["name"] = self.APP_NAMES.get(app["app_label"], app["name"])
        return app_list

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        # django-otp's middleware gives every request's user is_verified().
        if user.is_verified():  # type: ignore[union-attr]
            return True
        return not settings.SIGNATURES_STAFF_REQUIRE_2FA and not user_has_device(user)

    def get_urls(self) -> list:
        urls = [path("erase-address/", self.admin_view(self.erase_address_view), name="erase_address")]
        return urls + super().get_urls()

    def erase_address_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_superuser:
            return redirect("admin:index")
        form = EraseAddressForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            erased = services.erase_address(email=form.cleaned_data["email"])
            summary = ", ".join(f"{kind}: {count}" for kind, count in erased.items()) or _("nothing was stored")
            messages.success(request, _("Address erased (%(summary)s).") % {"summary": summary})
            return redirect("admin:erase_address")
        context = {**self.each_context(request), "form": form, "title": _("Erase every trace of an address")}
        return TemplateResponse(request, "admin/signatures/erase_address.html", context)
