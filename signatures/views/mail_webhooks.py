"""
The email provider's tracking webhook (bounces, complaints), answered by
anymail's own view for the provider in ANYMAIL_PROVIDER, which verifies it
(the provider's signature, or WEBHOOK_SECRET basic auth) before our
receiver (signatures/webhooks.py) sees an event.
"""

from __future__ import annotations

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

# Only tracking, only the provider we send through: the others' views would
# each need their own keys and packages, and we receive no inbound mail.
TRACKING_VIEWS = {
    pattern.name.removesuffix("_tracking_webhook"): pattern.callback
    for pattern in anymail_urls.urlpatterns
    if pattern.name and pattern.name.endswith("_tracking_webhook")
}


@csrf_exempt  # providers post without a CSRF token; anymail's view authenticates them
def tracking(request: HttpRequest, provider: str) -> HttpResponse:
    view = TRACKING_VIEWS.get(provider)
    if view is None or provider != settings.ANYMAIL_PROVIDER:
        raise Http404
    return view(request)
