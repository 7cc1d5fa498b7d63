from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    # The language switcher posts here; it works without JavaScript.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("signatures.urls")),
]

# A lost database connection answers 503 with Retry-After, not 500 (signatures/outage.py).
handler500 = "signatures.outage.server_error"
