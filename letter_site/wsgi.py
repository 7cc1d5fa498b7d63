import os

from django.core.wsgi import get_wsgi_application

from signatures.ops.request_hygiene import refuse_foreign_charsets

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "letter_site.settings")

# A charset Django cannot decode would fail while it builds the request, before any middleware.
application = refuse_foreign_charsets(get_wsgi_application())
