from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    # The language switcher posts here; it works without JavaScript.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("signatures.urls")),
]
