"""
gunicorn's access log without secrets: every value an access line may show
(request line, path, query string, referrer) passes through `log_redaction.redact`, so a
confirmation or withdrawal token (and any email address) never reaches it.
Set as `logger_class` in gunicorn.conf.py.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from signatures.ops.redaction import redact


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        # Every atom: besides the request line, gunicorn offers each environ
        # value ("{raw_uri}e") and request header ("{referer}i") to the format.
        atoms = super().atoms(resp, req, environ, request_time)
        # Most lines hold no token and no address: one check over all the values
        # at once instead of some forty, which cost more than our trivial view
        # (bench/RESULTS.md). The newline between them is in neither pattern, so
        # a match in one value is a match here and none spans two.
        joined = "\n".join(value for value in atoms.values() if isinstance(value, str))
        if redact(joined) == joined:
            return atoms
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
