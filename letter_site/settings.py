"""
Settings for Undersigned.

Every deployment knob comes from the environment (see `.env.example`), with
defaults that are safe for development. Sections: Django, contrib, third
party, ours (`SIGNATURES_*`).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import environ

from signatures.ops.error_reports import start_error_reports

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` is a convenience for development; production sets real
# environment variables and ships no such file.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Django -----------------------------------------------------------------

# Development by default (like `runserver`); production sets DEBUG=0, which
# also makes SECRET_KEY mandatory and turns on the HTTPS-only settings.
DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-change-me")
else:
    SECRET_KEY = env.str("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "signatures",
    "signatures.apps.UndersignedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
]

MIDDLEWARE = [
    # Outermost, the security headers (CSP included, built once per process) on
    # every answer, even those written before SecurityMiddleware runs: probes,
    # the outage page, the guards.
    "signatures.ops.request_hygiene.BaselineSecurityHeadersMiddleware",
    # Operations first: every response carries a request id; probes are answered
    # before host checks, the HTTPS redirect and limits; a lost database answers 503.
    "signatures.ops.logs.RequestIdMiddleware",
    "signatures.views.health.HealthProbeMiddleware",
    "signatures.ops.outage.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Refuse oversize bodies and undecodable URLs before any work is done.
    "signatures.ops.middleware.RequestGuardMiddleware",
    # NUL characters and charsets other than UTF-8: a 400 page, never a 500.
    "signatures.ops.request_hygiene.RequestHygieneMiddleware",
    "signatures.ops.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETags, so an unchanged public page answers 304 Not Modified (signatures/caching.py).
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # An anonymous visit of a kept public page is answered here (signatures/caching/pages.py).
    "signatures.caching.pages.KeptPageMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "signatures.ops.middleware.StaffIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "letter_site.urls"
WSGI_APPLICATION = "letter_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "signatures.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    # Behind PgBouncer in transaction pooling a server-side cursor (what a
    # streamed export iterates) cannot outlive the transaction that holds its
    # server connection: set DATABASE_DISABLE_SERVER_SIDE_CURSORS=1 there.
    DATABASES["default"].setdefault(
        "DISABLE_SERVER_SIDE_CURSORS", env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False)
    )
    # Fail fast when the database host is unreachable instead of hanging a worker.
    _db_options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
    # A statement timeout for web requests: gunicorn.conf.py sets one by default,
    # manage.py (migrations, the worker) runs without unless the environment says.
    DATABASE_STATEMENT_TIMEOUT_MS = int(env.str("DATABASE_STATEMENT_TIMEOUT_MS", default="") or 0)
    if DATABASE_STATEMENT_TIMEOUT_MS:
        _db_options["options"] = (
            f"{_db_options.get('options', '')} -c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}".strip()
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    # The database cache is shared by every process without extra services;
    # production may point CACHE_URL at Redis.
    "default": env.cache("CACHE_URL", default="dbcache://undersigned_cache"),
}
# What the letter page showed last, kept in memory for when the database (and so
# the database cache) is away; see signatures/outage.py.
CACHES["fallback"] = env.cache("FALLBACK_CACHE_URL", default="locmemcache://undersigned-fallback")

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Undersigned <letters@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
# The interface ships in these languages (catalogues in locale/); the visitor's
# browser picks one through Accept-Language, and the switcher overrides it.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# Request size caps: a signature is a few hundred bytes. A body declared larger
# than this is refused with 413 before it is read (RequestGuardMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is a deliberate, slow-to-undo commitment of the whole domain to
# browsers' HTTPS-only lists, so it is the operator's choice (SECURE_HSTS_PRELOAD=1),
# and `check --deploy` need not nag about it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Admin session cookies die with the browser; idle staff are signed out by
# StaffIdleTimeoutMiddleware after SIGNATURES_STAFF_IDLE_TIMEOUT_MINUTES.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        # LOG_FORMAT=json: one JSON object per line, for a log platform to index.
        "json": {"()": "signatures.ops.logs.JsonFormatter"},
    },
    "filters": {
        "request_id": {"()": "signatures.ops.logs.RequestIdFilter"},
        # Confirmation/withdrawal tokens (in request paths) and email addresses
        # never reach a log line.
        "redact_secrets": {"()": "signatures.ops.redaction.RedactSecretsFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if env.str("LOG_FORMAT", default="plain").strip().lower() == "json" else "plain",
            "filters": ["request_id", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- contrib ----------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out login is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- third party ------------------------------------------------------------

TASKS = {
    "default": {
        # Development and tests may run tasks immediately; production uses the
        # database queue (scheduled jobs only; email has its own worker, `manage.py send_emails`).
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
    },
}

# Content Security Policy (django-csp 4, whose build_policy our outermost
# middleware uses; its middleware, decorators and nonces are not installed):
# nothing from another origin, no inline script, no plugins, no framing, forms
# post only to us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "upgrade-insecure-requests": not DEBUG,
    },
}

# django-axes: admin login attempts per username and IP, then a lockout.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "signatures.abuse.client.client_ip"
# Successful logins are already in the session table; keep only failures.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# django-otp: TOTP devices for staff; see SIGNATURES_STAFF_REQUIRE_2FA.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Undersigned")

# sentry-sdk: error reports only when SENTRY_DSN is set, without personal data
# and with every string redacted as in our logs (signatures/ops/error_reports.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
start_error_reports(
    dsn=SENTRY_DSN,
    environment=env.str("SENTRY_ENVIRONMENT", default="") or ("development" if DEBUG else "production"),
    release=env.str("SENTRY_RELEASE", default=""),
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)

# django-anymail: instead of SMTP (EMAIL_URL), an email provider's API, and its
# webhooks telling us about bounces and complaints (signatures/webhooks.py).
# ANYMAIL_PROVIDER picks the backend (postmark, mailgun, sendgrid, brevo, resend,
# amazon_ses, ...); ANYMAIL_API_KEY is that provider's key; any other
# ANYMAIL_<NAME> variable becomes anymail's <NAME> setting as anymail documents
# it (ANYMAIL_MAILGUN_SENDER_DOMAIN, ANYMAIL_MAILGUN_API_URL, ...).
ANYMAIL_PROVIDER = env.str("ANYMAIL_PROVIDER", default="").strip().lower()
_ANYMAIL_KEY_NAMES = {"postmark": "SERVER_TOKEN", "mailersend": "API_TOKEN"}
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in env.ENVIRON.items()
    # Empty means unset: an empty signing key or webhook secret would let anyone in.
    if name.startswith("ANYMAIL_") and name not in {"ANYMAIL_PROVIDER", "ANYMAIL_API_KEY"} and value.strip()
}
if ANYMAIL_PROVIDER:
    EMAIL_BACKEND = f"anymail.backends.{ANYMAIL_PROVIDER}.EmailBackend"
    if env.str("ANYMAIL_API_KEY", default=""):
        key_name = _ANYMAIL_KEY_NAMES.get(ANYMAIL_PROVIDER, "API_KEY")
        ANYMAIL[f"{ANYMAIL_PROVIDER.upper()}_{key_name}"] = env.str("ANYMAIL_API_KEY")
# The provider's tracking webhook (/anymail/<provider>/tracking/) needs
# ANYMAIL_WEBHOOK_SECRET ("user:password", in the URL given to the provider).
# Unset, one derived from SECRET_KEY that nobody is given makes it refuse every
# caller, rather than accept forged "bounced" events that would silence real signers.
_unshared_webhook_secret = hashlib.sha256(f"anymail-webhook:{SECRET_KEY}".encode()).hexdigest()
ANYMAIL.setdefault("WEBHOOK_SECRET", f"{_unshared_webhook_secret[:32]}:{_unshared_webhook_secret[32:]}")

# --- ours -------------------------------------------------------------------

# Confirmation and withdrawal links stop working after this many days.
SIGNATURES_TOKEN_MAX_AGE_DAYS = env.int("SIGNATURES_TOKEN_MAX_AGE_DAYS", default=7)
# Unsubscribe links in update emails keep working this long (they only ever turn updates off).
SIGNATURES_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS = env.int("SIGNATURES_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS", default=730)
# Updates to signers are queued this many at a time, each batch in its own short transaction.
SIGNATURES_UPDATE_BATCH_SIZE = env.int("SIGNATURES_UPDATE_BATCH_SIZE", default=1000)
# Unconfirmed signatures are purged after this many days.
SIGNATURES_UNCONFIRMED_RETENTION_DAYS = env.int("SIGNATURES_UNCONFIRMED_RETENTION_DAYS", default=30)
# IP hashes are dropped from signatures after this many days.
SIGNATURES_IP_HASH_RETENTION_DAYS = env.int("SIGNATURES_IP_HASH_RETENTION_DAYS", default=30)
# Salt for the IP hash; defaults to a value derived from SECRET_KEY.
SIGNATURES_IP_SALT = env.str("SIGNATURES_IP_SALT", default="")
# Signatories per page on the public list.
SIGNATURES_PAGE_SIZE = env.int("SIGNATURES_PAGE_SIZE", default=50)
# Seconds the letter page and public list pages are kept rendered in the shared
# cache for anonymous visitors (signatures/page_cache.py). 0 turns it off: the
# default in development, where a change should show at once.
SIGNATURES_PAGE_CACHE_SECONDS = env.int("SIGNATURES_PAGE_CACHE_SECONDS", default=0 if DEBUG else 5)
# Seconds each process also keeps a page it read from the shared cache (never past
# the shared entry's own expiry), so a busy process reads it once a second.
SIGNATURES_PAGE_CACHE_LOCAL_SECONDS = env.int("SIGNATURES_PAGE_CACHE_LOCAL_SECONDS", default=0 if DEBUG else 1)
# Seconds each process keeps the allow and block lists and the privacy notice's
# version (signatures/organizer_data.py); a change made elsewhere shows within them.
SIGNATURES_ORGANIZER_DATA_SECONDS = env.int("SIGNATURES_ORGANIZER_DATA_SECONDS", default=0 if DEBUG else 5)
# A bearer token that shows the operator /readyz's details (the email queue's
# depth and failures); everyone else gets a plain "ok" or 503. Unset: nobody.
SIGNATURES_READYZ_TOKEN = env.str("SIGNATURES_READYZ_TOKEN", default="")
# Optional Reply-To for every email we send.
SIGNATURES_REPLY_TO = env.str("SIGNATURES_REPLY_TO", default="")
# Queued emails: tries before an email is marked failed; the first retry after
# this many seconds, doubling up to the cap (10 tries span about six hours).
SIGNATURES_EMAIL_MAX_ATTEMPTS = env.int("SIGNATURES_EMAIL_MAX_ATTEMPTS", default=10)
SIGNATURES_EMAIL_RETRY_SECONDS = env.int("SIGNATURES_EMAIL_RETRY_SECONDS", default=60)
SIGNATURES_EMAIL_RETRY_MAX_SECONDS = env.int("SIGNATURES_EMAIL_RETRY_MAX_SECONDS", default=7200)
# How long a worker may take to send one email before another may take it over
# (a worker killed mid-send); longer than EMAIL_TIMEOUT allows for one send.
SIGNATURES_EMAIL_CLAIM_SECONDS = env.int("SIGNATURES_EMAIL_CLAIM_SECONDS", default=300)
# Seconds `manage.py send_emails` sleeps when no email is due: the longest a
# confirmation email waits for the worker to notice it.
SIGNATURES_EMAIL_POLL_SECONDS = env.float("SIGNATURES_EMAIL_POLL_SECONDS", default=0.5)
# Send each email from the process that queued it, once its transaction
# commits, instead of leaving it to the worker: for tests only.
SIGNATURES_EMAIL_SEND_ON_COMMIT = env.bool("SIGNATURES_EMAIL_SEND_ON_COMMIT", default=False)
# The hourly surge check flags an email domain or an IP hash that sent at least
# this many signatures to one letter in the past hour. Big webmail domains can
# be ignored so a viral day does not flag gmail.com every hour.
SIGNATURES_SURGE_DOMAIN_PER_HOUR = env.int("SIGNATURES_SURGE_DOMAIN_PER_HOUR", default=100)
SIGNATURES_SURGE_IP_PER_HOUR = env.int("SIGNATURES_SURGE_IP_PER_HOUR", default=30)
SIGNATURES_SURGE_IGNORED_DOMAINS = env.list("SIGNATURES_SURGE_IGNORED_DOMAINS", default=[])

# --- ours: abuse defences, security and privacy (README: "Security and privacy")
# How many reverse proxies that append to X-Forwarded-For stand in front of the
# site. 0: the socket's address is the client (a forged header is ignored).
SIGNATURES_TRUSTED_PROXY_COUNT = env.int("SIGNATURES_TRUSTED_PROXY_COUNT", default=0)
# Limits, each "count/seconds" ("0" turns one off). Over a sign limit the
# signature is stored but held for a moderator; the signer sees nothing.
SIGNATURES_LIMIT_SIGN_IP_BURST = env.str("SIGNATURES_LIMIT_SIGN_IP_BURST", default="5/60")
SIGNATURES_LIMIT_SIGN_IP_SUSTAINED = env.str("SIGNATURES_LIMIT_SIGN_IP_SUSTAINED", default="20/3600")
SIGNATURES_LIMIT_SIGN_DOMAIN = env.str("SIGNATURES_LIMIT_SIGN_DOMAIN", default="30/3600")
# Hard cap on emails to one address about one letter, from however many IPs.
SIGNATURES_LIMIT_EMAILS_PER_ADDRESS = env.str("SIGNATURES_LIMIT_EMAILS_PER_ADDRESS", default="3/86400")
# Budgets for outgoing mail, "count/seconds" ("0" turns one off), shared by every
# process: per client address of the attempt (IPv6 by /64), per recipient domain
# (big shared providers exempt), and overall at send time. Mail over a budget
# is deferred to when the window has room, never dropped.
SIGNATURES_MAIL_BUDGET_PER_IP = env.str("SIGNATURES_MAIL_BUDGET_PER_IP", default="20/3600")
SIGNATURES_MAIL_BUDGET_PER_DOMAIN = env.str("SIGNATURES_MAIL_BUDGET_PER_DOMAIN", default="120/600")
SIGNATURES_MAIL_BUDGET_OVERALL = env.str("SIGNATURES_MAIL_BUDGET_OVERALL", default="6000/60")
# Endpoints that answer 429: confirm/withdraw POSTs and list pages, per IP.
SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP = env.str("SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP", default="30/600")
SIGNATURES_LIMIT_LIST_PAGES_PER_IP = env.str("SIGNATURES_LIMIT_LIST_PAGES_PER_IP", default="120/60")
# Bot friction: the sign form must have been on screen this long.
SIGNATURES_MIN_FILL_SECONDS = env.int("SIGNATURES_MIN_FILL_SECONDS", default=3)
# A sign form older than this asks the person to send it again.
SIGNATURES_FORM_MAX_AGE_HOURS = env.int("SIGNATURES_FORM_MAX_AGE_HOURS", default=48)
# A dropped submission (bot, blocklist) answers no sooner than a real one does.
SIGNATURES_PAD_CAUGHT_RESPONSES = env.bool("SIGNATURES_PAD_CAUGHT_RESPONSES", default=True)
# Refuse addresses at throwaway-mail domains (disposable-email-domains package).
SIGNATURES_REJECT_DISPOSABLE_EMAILS = env.bool("SIGNATURES_REJECT_DISPOSABLE_EMAILS", default=True)
# Staff are signed out of the admin after this many idle minutes.
SIGNATURES_STAFF_IDLE_TIMEOUT_MINUTES = env.int("SIGNATURES_STAFF_IDLE_TIMEOUT_MINUTES", default=30)
# Require a TOTP code (django-otp) from every staff member at admin login.
SIGNATURES_STAFF_REQUIRE_2FA = env.bool("SIGNATURES_STAFF_REQUIRE_2FA", default=False)
# A letter's embed may be framed by http://127.x.x.x:PORT (a partner page on this machine): development and tests only.
SIGNATURES_EMBED_ALLOW_LOOPBACK_HTTP = env.bool("SIGNATURES_EMBED_ALLOW_LOOPBACK_HTTP", default=DEBUG)
# Named in the privacy notice: who is responsible for the signers' data, and how to reach them.
SIGNATURES_DATA_CONTROLLER = env.str("SIGNATURES_DATA_CONTROLLER", default="")
SIGNATURES_PRIVACY_CONTACT = env.str("SIGNATURES_PRIVACY_CONTACT", default="")
# Signature imports: the largest spreadsheet an organizer may upload (the one
# request allowed past DATA_UPLOAD_MAX_MEMORY_SIZE, on the admin's upload page).
SIGNATURES_IMPORT_MAX_BYTES = env.int("SIGNATURES_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
