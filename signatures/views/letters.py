from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from signatures import services
from signatures.abuse import bots
from signatures.abuse.client import client_ip
from signatures.caching import pages as page_cache
from signatures.caching.http import make_private
from signatures.forms import SignatureForm
from signatures.models import Letter, LetterUpdate, Signature
from signatures.ops import outage

NOTABLE_ON_LETTER_PAGE = 12
RECENT_ON_LETTER_PAGE = 10
UPDATES_ON_LETTER_PAGE = 20


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    letters = list(Letter.objects.public().order_by("status", "-created_at"))
    open_letters = [letter for letter in letters if letter.effective_status == Letter.Status.OPEN]
    if len(open_letters) == 1 and len(letters) == 1:
        return redirect(open_letters[0])
    language = translation.get_language()
    letters = [letter.translated(language) for letter in letters]
    return render(request, "signatures/home.html", {"letters": letters})


def letter_or_404(slug: str) -> Letter:
    # Read with its translation for the visitor's language, so showing it costs no query of its own.
    return get_object_or_404(Letter.objects.public().with_translation(translation.get_language()), slug=slug)


def letter_to_sign(slug: str) -> Letter:
    # A sign POST reads the letter's settings, not its text: no translation and
    # no body (the largest columns, and the translation's subqueries are most of
    # the cost of building the query). A form error, which draws the page
    # again, reads them then.
    return get_object_or_404(Letter.objects.public().defer("body", "body_html"), slug=slug)


def _render_letter(
    request: HttpRequest, letter: Letter, form: SignatureForm, *, status: int = 200, for_keeping: bool = False
) -> HttpResponse:
    listed = Signature.objects.listed().filter(letter=letter).select_related("profession")
    context = {
        "letter": letter.translated(translation.get_language()),
        "form": form,
        "notable": listed.filter(is_notable=True)[:NOTABLE_ON_LETTER_PAGE],
        "recent": listed.filter(is_notable=False)[:RECENT_ON_LETTER_PAGE],
        "page_placeholders": for_keeping,
        # News from the organizers, newest first, under the letter.
        "updates": LetterUpdate.objects.published().filter(letter_id=letter.pk)[:UPDATES_ON_LETTER_PAGE],
        # The form read the letter's questions already; only public ones show on entries.
        "public_questions": [q for q in form.questions if q.is_public],
    }
    response = render(request, "signatures/letter.html", context, status=status)
    # The sign form holds this visitor's CSRF token, and after a failed post their
    # answers and errors: no shared cache may keep the page.
    make_private(response)
    return response


@require_safe
# The viral hour: most visitors get the page kept a few seconds ago, with their own token.
@page_cache.kept_letter_page(form_stamp=bots.make_form_stamp)
def letter_detail(request: HttpRequest, slug: str) -> HttpResponse:
    letter = letter_or_404(slug)
    keeping = page_cache.draws_letter_page_for_keeping(request)
    response = _render_letter(request, letter, SignatureForm(letter=letter), for_keeping=keeping)
    if keeping:
        response = page_cache.keep_and_fill_letter_page(
            request, response, letter_id=letter.pk, form_stamp=bots.make_form_stamp
        )
    # Kept in memory so the page still shows text and count if the database goes away.
    outage.remember_letter(letter.translated(translation.get_language()))
    return response


@sensitive_post_parameters("email")
@require_POST
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    started = time.monotonic()
    # The letter itself, fetched once and passed on.
    letter = letter_to_sign(slug)
    if not letter.is_accepting_signatures:
        return _render_letter(request, letter, SignatureForm(letter=letter), status=403)
    form = SignatureForm(request.POST, letter=letter, visitor=bots.visitor_sending_form(request))
    if not form.is_valid():
        return _render_letter(request, letter, form, status=400)
    if form.caught_reason:
        # A bot (honeypot filled, sent too fast, forged or replayed stamp): nothing stored,
        # nothing sent, and the same answer as a real signature gets.
        services.record_caught_submission(letter=letter, reason=form.caught_reason)
        bots.sign_response_timer.pad(started)
        return redirect("signatures:check_email", slug=letter.slug)
    try:
        outcome = services.sign_letter(
            letter=letter,
            ip_address=client_ip(request),
            language=translation.get_language() or settings.LANGUAGE_CODE,
            **form.signature_fields(),
        )
    except services.SigningClosed:
        return _render_letter(request, letter, SignatureForm(letter=letter), status=403)
    # A blocklisted address is dropped without the work a real one costs: answer
    # no sooner than a real one does, so the clock does not tell them apart.
    if outcome == services.SignOutcome.BLOCKED:
        bots.sign_response_timer.pad(started)
    else:
        bots.sign_response_timer.observe(started)
    # Whatever happened (new, pending, already signed, blocked, held), the
    # signer sees the same page: the difference goes only to their mailbox.
    return redirect("signatures:check_email", slug=letter.slug)


@require_safe
def check_email(request: HttpRequest, slug: str) -> HttpResponse:
    letter = letter_or_404(slug)
    return render(request, "signatures/check_email.html", {"letter": letter})
