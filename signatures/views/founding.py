"""
The founding phase: invitees read and sign a letter through a private link
while its public address still answers 404.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from signatures import services
from signatures.abuse import bots
from signatures.abuse.client import client_ip
from signatures.forms import SignatureForm
from signatures.models import Invitation, Letter
from signatures.tokens import invitation_from_token


def _no_referrer(response: HttpResponse) -> HttpResponse:
    # The secret is in the URL: never let it leave for another site in a
    # Referer header. ("no-referrer" would also blank the Origin of the form's
    # own POST, which the CSRF check then refuses.)
    response["Referrer-Policy"] = "same-origin"
    return response


def _invitation_or_404(token: str) -> Invitation:
    invitation = invitation_from_token(token)
    if invitation is None:
        raise Http404
    return invitation


def _render_invitation(
    request: HttpRequest, token: str, invitation: Invitation, form: SignatureForm, *, status: int = 200
) -> HttpResponse:
    letter = invitation.letter.translated(translation.get_language())
    context = {
        "letter": letter,
        "invitation": invitation,
        "form": form,
        "form_action": reverse("signatures:invitation_sign", kwargs={"token": token}),
    }
    return _no_referrer(render(request, "signatures/founding/letter.html", context, status=status))


def _unusable(request: HttpRequest) -> HttpResponse:
    # 404 like the public address: an outsider learns nothing from a dead link.
    return _no_referrer(render(request, "signatures/founding/invitation_invalid.html", status=404))


@never_cache
@require_safe
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation_or_404(token)
    letter = invitation.letter
    if letter.effective_status in (Letter.Status.OPEN, Letter.Status.CLOSED):
        return redirect(letter)  # launched: everyone reads it at its public address now
    if not invitation.is_usable or not letter.is_founding_phase:
        return _unusable(request)
    return _render_invitation(request, token, invitation, SignatureForm(letter=letter))


@sensitive_post_parameters("email")
@never_cache
@require_POST
def invitation_sign(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation_or_404(token)
    letter = invitation.letter
    if not invitation.is_usable or not letter.is_founding_phase:
        return _unusable(request)
    form = SignatureForm(request.POST, letter=letter, visitor=bots.visitor_sending_form(request))
    if not form.is_valid():
        return _render_invitation(request, token, invitation, form, status=400)
    if form.caught_reason:
        # A bot: nothing stored or sent, and the same answer a person gets.
        services.record_caught_submission(letter=letter, reason=form.caught_reason)
        return redirect("signatures:invitation_check_email", token=token)
    try:
        services.sign_letter(
            letter=letter,
            invitation=invitation,
            ip_address=client_ip(request),
            language=translation.get_language() or settings.LANGUAGE_CODE,
            **form.signature_fields(),
        )
    except services.SigningClosed:
        return _unusable(request)
    return redirect("signatures:invitation_check_email", token=token)


@never_cache
@require_safe
def invitation_check_email(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation_or_404(token)
    context = {"letter": invitation.letter, "invitation_url": reverse("signatures:invitation", args=[token])}
    return _no_referrer(render(request, "signatures/founding/check_email.html", context))
