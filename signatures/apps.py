from importlib import import_module

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class SignaturesConfig(AppConfig):
    # This module also holds the admin's config: say which one "signatures" means.
    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "signatures"
    verbose_name = _("Open letters")

    def ready(self) -> None:
        # Models are loaded only now, so the module that reads them is imported here.
        from signatures import webhooks  # noqa: PLC0415, F401 (connects the bounce receiver)
        from signatures.caching import organizer_data  # noqa: PLC0415

        organizer_data.connect_signals()


class UndersignedAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with our site as `admin.site`."""

    default = False
    default_site = "signatures.admin.site.UndersignedAdminSite"
    # The parts of our admin, each registering its models on the site. Imported
    # once the site exists: loading site.py runs signatures/admin/__init__.py first,
    # so registrations made from there would land on a site the admin throws away.
    parts = ("defences", "imports", "letters", "moderation", "outbox", "updates")

    def ready(self) -> None:
        super().ready()
        for name in self.parts:
            import_module(f"signatures.admin.{name}")
