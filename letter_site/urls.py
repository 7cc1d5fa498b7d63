from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    # The language switcher posts here; it works without JavaScript. Exempt from
    # CSRF so that pages carrying the switcher hold no per-visitor token and can
    # be cached publicly; the worst a forged post can do is change a language.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("", include("signatures.urls")),
]

# A lost database connection answers 503 with Retry-After, not 500 (signatures/outage.py).
handler500 = "signatures.ops.outage.server_error"
