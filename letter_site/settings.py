"""
Settings for Undersigned.

Every deployment knob comes from the environment (see `.env.example`), with
defaults that are safe for development. Sections: Django, contrib, third
party, ours (`SIGNATURES_*`).
"""

from __future__ import annotations

from pathlib import Path

import environ

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
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # Operations first: every response carries a request id; probes are answered
    # before host checks, the HTTPS redirect and limits; a lost database answers 503.
    "signatures.logs.RequestIdMiddleware",
    "signatures.views.health.HealthProbeMiddleware",
    "signatures.outage.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETags, so an unchanged public page answers 304 Not Modified (signatures/caching.py).
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    # Fail fast when the database host is unreachable instead of hanging a worker.
    _db_options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
    # A statement timeout for web requests: gunicorn.conf.py sets one by default,
    # manage.py (migrations, the worker) runs without unless the environment says.
    DATABASE_STATEMENT_TIMEOUT_MS = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=0)
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

# Request size caps: a signature is a few hundred bytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        # LOG_FORMAT=json: one JSON object per line, for a log platform to index.
        "json": {"()": "signatures.logs.JsonFormatter"},
    },
    "filters": {
        "request_id": {"()": "signatures.logs.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if env.str("LOG_FORMAT", default="plain").strip().lower() == "json" else "plain",
            "filters": ["request_id"],
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

# --- third party ------------------------------------------------------------

TASKS = {
    "default": {
        # Development and tests may run tasks immediately; production uses the
        # database queue drained by `manage.py db_worker`.
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
    },
}

# --- ours -------------------------------------------------------------------

# Confirmation and withdrawal links stop working after this many days.
SIGNATURES_TOKEN_MAX_AGE_DAYS = env.int("SIGNATURES_TOKEN_MAX_AGE_DAYS", default=7)
# Unconfirmed signatures are purged after this many days.
SIGNATURES_UNCONFIRMED_RETENTION_DAYS = env.int("SIGNATURES_UNCONFIRMED_RETENTION_DAYS", default=30)
# IP hashes are dropped from signatures after this many days.
SIGNATURES_IP_HASH_RETENTION_DAYS = env.int("SIGNATURES_IP_HASH_RETENTION_DAYS", default=30)
# Salt for the IP hash; defaults to a value derived from SECRET_KEY.
SIGNATURES_IP_SALT = env.str("SIGNATURES_IP_SALT", default="")
# Signatories per page on the public list.
SIGNATURES_PAGE_SIZE = env.int("SIGNATURES_PAGE_SIZE", default=50)
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
# The hourly surge check flags an email domain or an IP hash that sent at least
# this many signatures to one letter in the past hour. Big webmail domains can
# be ignored so a viral day does not flag gmail.com every hour.
SIGNATURES_SURGE_DOMAIN_PER_HOUR = env.int("SIGNATURES_SURGE_DOMAIN_PER_HOUR", default=100)
SIGNATURES_SURGE_IP_PER_HOUR = env.int("SIGNATURES_SURGE_IP_PER_HOUR", default=30)
SIGNATURES_SURGE_IGNORED_DOMAINS = env.list("SIGNATURES_SURGE_IGNORED_DOMAINS", default=[])
