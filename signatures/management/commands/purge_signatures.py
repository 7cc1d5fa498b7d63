from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from signatures import services


class Command(BaseCommand):
    help = (
        "Delete signatures never confirmed within SIGNATURES_UNCONFIRMED_RETENTION_DAYS and finish erasing "
        "withdrawn ones; drop IP hashes older than SIGNATURES_IP_HASH_RETENTION_DAYS. Run it daily."
    )

    def handle(self, *args, **options) -> None:
        done = services.purge_expired_signatures()
        ip_hashes_dropped = services.drop_old_ip_hashes()
        if options["verbosity"]:
            days = settings.SIGNATURES_UNCONFIRMED_RETENTION_DAYS
            self.stdout.write(
                f"Deleted {done['unconfirmed_deleted']} signature(s) left unconfirmed for over {days} days; "
                f"erased the data of {done['withdrawn_erased']} withdrawn signature(s)."
            )
            self.stdout.write(
                f"Dropped the IP hash of {ip_hashes_dropped} signature(s) older than "
                f"{settings.SIGNATURES_IP_HASH_RETENTION_DAYS} days."
            )
