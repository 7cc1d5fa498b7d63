# syntax=docker/dockerfile:1
# Undersigned: one image for the web processes (the default command) and the
# email worker (`python manage.py send_emails`). See README.md, "Deploy".
# CI checks this file with hadolint and replays its build steps in .ci/image-recipe.

# --- build: a virtualenv, compiled translations, collected static files
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# gettext gives compilemessages its msgfmt; g++, pkg-config and libicu-dev build
# PyICU (no wheels are published). They all stay in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext=0.21-12 g++=4:12.2.0-3 pkg-config=1.8.1-1 \
        libicu-dev=72.1-3+deb12u1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
# Installed here, where the compiler is (PyICU ships only its source, built
# against the system ICU); the runtime stage gets only the installed
# virtualenv. requirements.txt locks every dependency with its hashes: pip
# refuses any downloaded file that differs from the reviewed one, the PyICU
# source included, before it builds anything from it.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements.txt
COPY . .
# Build-time settings only: no secret or database is baked into the image.
# compilemessages needs a locale folder to exist even before any catalogue does.
RUN mkdir -p locale \
    && DEBUG=0 SECRET_KEY=image-build-only /opt/venv/bin/python manage.py compilemessages \
    && DEBUG=0 SECRET_KEY=image-build-only /opt/venv/bin/python manage.py collectstatic --no-input

# --- runtime: slim, no compilers, a non-root user that cannot change the code
FROM python:3.11.14-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:${PATH}" \
    DEBUG=0 \
    PORT=8000
# ICU for PyICU (impersonation matching), Pango and a font for the delivery PDF (WeasyPrint):
# the slim image has none of them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libicu72=72.1-3+deb12u1 \
        libpango-1.0-0=1.50.12+ds-1 libpangoft2-1.0-0=1.50.12+ds-1 fonts-dejavu-core=2.37-6 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# /healthz needs no database: a database outage must not get healthy web
# containers restarted. Readiness (/readyz) is for the load balancer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["python", "deploy/healthcheck.py"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "letter_site.wsgi"]
