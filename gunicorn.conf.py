"""
gunicorn settings for production: `gunicorn -c gunicorn.conf.py letter_site.wsgi`.

Every value can be changed through the environment, so one image fits a small
VM and a large container alike. Logs go to stdout/stderr for the platform to
collect; with LOG_FORMAT=json each access line is one JSON object.
"""

from __future__ import annotations

import os

import environ

# The same settings file Django reads (a `.env` beside this file, if any), so
# LOG_FORMAT or WEB_CONCURRENCY there apply to gunicorn too; real environment
# variables win.
environ.Env.read_env(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".env"), overwrite=False)


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cpus() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's.
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"

# Sync workers: each page is a few fast queries, so the classic 2 x CPUs + 1,
# capped because every worker holds a database connection.
workers = _int("WEB_CONCURRENCY", min(2 * _cpus() + 1, 12))
threads = _int("GUNICORN_THREADS", 1)
# gunicorn's own workers, whose error pages (a request its HTTP parser refuses,
# before Django sees it) carry our security headers too.
worker_class = (
    "signatures.ops.gunicorn_workers.ThreadWorkerWithHeaders"
    if threads > 1
    else "signatures.ops.gunicorn_workers.SyncWorkerWithHeaders"
)

# A request that takes longer than this is stuck (the database statement
# timeout is shorter): the worker is replaced.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Sync workers close the connection after each response. With GUNICORN_THREADS
# above 1, idle connections are kept this long: set it above the load
# balancer's idle timeout, so the balancer never reuses a socket we closed.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Load Django once in the master so workers fork ready (and a broken
# configuration stops the start instead of looping worker restarts).
preload_app = True


def pre_fork(server, worker) -> None:
    # A database connection opened while preloading (by an app's ready(), say)
    # must not be shared by the forked workers: close it in the master first.
    from django.db import connections  # noqa: PLC0415 (Django is configured only once this runs)

    connections.close_all()


# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# The heartbeat file on tmpfs: a container's overlay disk can stall it.
# gunicorn only writes its own heartbeat file there, with a random name.
_SHM = "/dev/shm"  # noqa: S108
if os.path.isdir(_SHM):
    worker_tmp_dir = _SHM

# The TLS-terminating proxy in front of us; Django trusts X-Forwarded-Proto only
# when BEHIND_TLS_PROXY=1.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn's control socket defaults to one path in $HOME, shared by every
# gunicorn of that user; we do not use it, so none is opened.
control_socket_disable = True

# GUNICORN_ACCESS_LOG=0 turns the access line off where the proxy in front
# already logs each request; errors still log.
accesslog = None if os.environ.get("GUNICORN_ACCESS_LOG", "").strip().lower() in ("0", "off", "false") else "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The request id is the one RequestIdMiddleware set on the response.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
# Paths of emailed links carry tokens: the access line redacts them (and email addresses).
logger_class = "signatures.ops.gunicorn_logging.RedactingLogger"

if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "signatures.ops.logs.JsonFormatter"}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }

# Web requests get a statement timeout on PostgreSQL (see DATABASE_STATEMENT_TIMEOUT_MS
# in settings); migrations and the worker, started with manage.py, do not.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "10000")
