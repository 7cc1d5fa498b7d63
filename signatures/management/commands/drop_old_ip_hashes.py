from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from signatures import services


class Command(BaseCommand):
    help = "Blank the salted IP hash of signatures older than SIGNATURES_IP_HASH_RETENTION_DAYS. Run it daily."

    def handle(self, *args, **options) -> None:
        dropped = services.drop_old_ip_hashes()
        if options["verbosity"]:
            days = settings.SIGNATURES_IP_HASH_RETENTION_DAYS
            self.stdout.write(f"Dropped the IP hash of {dropped} signature(s) older than {days} days.")
