"""
Withdrawal, a signer's right: a page per letter emails a link to the address
given (answering the same whether or not it signed); the link's GET shows a
button and its POST withdraws the signature and erases the signer's data.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from signatures import services
from signatures.abuse.limits import limit_per_ip
from signatures.forms import WithdrawalRequestForm
from signatures.models import Letter, Signature
from signatures.tokens import Purpose


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@limit_per_ip("withdraw-request", "SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP")
def withdraw_request(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_object_or_404(Letter.objects.public(), slug=slug)
    form = WithdrawalRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.request_withdrawal(letter=letter, email=form.cleaned_data["email"])
        # The same page whether the address signed, is unknown or is over
        # its email cap: nobody can use this page to learn who signed.
        return render(request, "signatures/withdraw/requested.html", {"letter": letter})
    status = 400 if form.errors else 200
    return render(request, "signatures/withdraw/request.html", {"letter": letter, "form": form}, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@limit_per_ip("token-post", "SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP")
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    # Mail link scanners fetch links: the GET only shows a button.
    if request.method == "POST":
        signature = services.withdraw_signature(token=token)
        if signature is None:
            return render(request, "signatures/link_invalid.html", {"purpose": "withdraw"}, status=400)
        return render(request, "signatures/withdraw/withdrawn.html", {"letter": signature.letter})
    signature = services.find_signature_for_token(token, Purpose.WITHDRAW)
    if signature is None or signature.state == Signature.State.WITHDRAWN:
        return render(request, "signatures/link_invalid.html", {"purpose": "withdraw"}, status=400)
    return render(request, "signatures/withdraw/confirm.html", {"signature": signature, "letter": signature.letter})
