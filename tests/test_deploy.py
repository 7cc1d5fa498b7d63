"""
The deployment files: the Dockerfile passes hadolint, CI replays its build
steps, docker-compose.yml is valid Compose, and gunicorn.conf.py says what the
README promises. (No Docker engine here: the image itself is built elsewhere.)
"""

# This file runs the deployment tools as a deployer would: fixed commands, ours.
# ruff: noqa: S602, S603, S607

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from importlib import resources
from pathlib import Path
from unittest import mock, skipUnless

import jsonschema
import yaml
from django.core.management import get_commands
from django.db import connection
from django.test import SimpleTestCase, TransactionTestCase

from signatures.models import Signature
from tests.factories import make_letter, make_signature

ROOT = Path(__file__).resolve().parent.parent
HADOLINT = Path(sys.executable).with_name("hadolint")


def compose_schema() -> dict:
    # The Compose specification's JSON schema, as vendored by check-jsonschema.
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendor.joinpath("compose-spec.json").read_text())


def compose_errors(document: dict) -> list[str]:
    validator_class = jsonschema.validators.validator_for(compose_schema())
    validator = validator_class(compose_schema())
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


class DockerfileTests(SimpleTestCase):
    def test_hadolint_finds_nothing(self):
        result = subprocess.run(
            [str(HADOLINT), "--failure-threshold", "style", "Dockerfile"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == ""

    def test_hadolint_would_catch_a_bad_instruction(self):
        bad = (ROOT / "Dockerfile").read_text() + "\nRUN apt-get install curl\n"
        result = subprocess.run(
            [str(HADOLINT), "-"], input=bad, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode != 0
        assert "DL3008" in result.stdout  # unpinned apt package

    def test_the_image_is_multi_stage_pinned_non_root_with_a_healthcheck(self):
        dockerfile = (ROOT / "Dockerfile").read_text()
        bases = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
        assert len(bases) == 2
        assert all(re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base) for base in bases), bases
        assert re.search(r"^USER 10001", dockerfile, flags=re.MULTILINE)
        assert "HEALTHCHECK" in dockerfile
        assert 'CMD ["gunicorn", "--config", "gunicorn.conf.py", "letter_site.wsgi"]' in dockerfile
        # Static files and translations are built into the image.
        assert "manage.py collectstatic" in dockerfile
        assert "manage.py compilemessages" in dockerfile

    def test_tests_and_local_state_stay_out_of_the_build_context(self):
        ignored = (ROOT / ".dockerignore").read_text().split()
        for entry in (".git", ".venv", ".env", "db.sqlite3", "tests"):
            assert entry in ignored


class ImageRecipeTests(SimpleTestCase):
    def test_ci_replays_the_image_recipe(self):
        recipe = ROOT / ".ci" / "image-recipe"
        assert os.access(recipe, os.X_OK)
        assert re.search(r"^\.ci/image-recipe$", (ROOT / ".ci" / "run").read_text(), flags=re.MULTILINE)
        subprocess.run(["bash", "-n", str(recipe)], check=True, timeout=10)

    def test_the_recipe_runs_the_dockerfiles_build_steps(self):
        recipe = (ROOT / ".ci" / "image-recipe").read_text()
        for step in (
            'pip" install --quiet --require-hashes -r "$APP/requirements.txt"',
            "manage.py compilemessages",
            "manage.py collectstatic --no-input",
            "manage.py check --deploy --fail-level WARNING",
            "--check-config --config gunicorn.conf.py",
        ):
            assert step in recipe, step

    def test_make_lint_runs_hadolint(self):
        makefile = (ROOT / "Makefile").read_text()
        assert re.search(r"^lint: .*dockerfile-lint", makefile, flags=re.MULTILINE)
        assert "hadolint" in makefile


class ComposeFileTests(SimpleTestCase):
    def test_is_valid_against_the_compose_specification(self):
        assert compose_errors(load_compose()) == []

    def test_the_schema_check_catches_mistakes(self):
        broken = load_compose()
        broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_finished"
        broken["services"]["worker"]["restart_policy"] = "always"
        errors = compose_errors(broken)
        assert any("service_finished" in error for error in errors), errors
        assert any("restart_policy" in error for error in errors), errors

    def test_runs_web_worker_postgres_and_optional_redis_from_one_image(self):
        services = load_compose()["services"]
        assert set(services) == {"db", "redis", "migrate", "web", "worker", "jobs"}
        assert services["redis"]["profiles"] == ["redis"]
        assert services["web"]["image"] == services["worker"]["image"] == services["migrate"]["image"]
        assert services["jobs"]["image"] == services["web"]["image"]
        assert services["jobs"]["command"] == ["python", "manage.py", "db_worker"]
        assert services["jobs"]["restart"] == "unless-stopped"
        assert "command" not in services["web"], "web runs the image's gunicorn command"
        assert services["worker"]["command"][:3] == ["python", "manage.py", "send_emails"]

    def test_the_worker_is_restarted_if_it_exits_and_has_a_healthcheck_of_its_own(self):
        worker = load_compose()["services"]["worker"]
        assert worker["restart"] == "unless-stopped"
        heartbeat = worker["command"][worker["command"].index("--heartbeat") + 1]
        assert not worker["healthcheck"].get("disable")
        assert heartbeat in " ".join(worker["healthcheck"]["test"])

    def test_postgres_keeps_its_data_in_a_named_volume_and_has_a_healthcheck(self):
        compose = load_compose()
        db = compose["services"]["db"]
        assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
        assert "pgdata" in compose["volumes"]
        assert "pg_isready" in " ".join(db["healthcheck"]["test"])

    def test_migrations_run_once_before_web_and_worker_start(self):
        services = load_compose()["services"]
        assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
        assert services["migrate"]["restart"] == "no"
        for name in ("web", "worker"):
            assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
            assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}

    def test_settings_come_from_an_env_file_whose_example_is_committed(self):
        services = load_compose()["services"]
        for name in ("migrate", "web", "worker"):
            assert services[name]["env_file"] == ".env"
            assert services[name]["environment"]["DEBUG"] == "0"
        example = (ROOT / "deploy" / "production.env.example").read_text()
        for variable in ("SECRET_KEY=", "POSTGRES_PASSWORD=", "ALLOWED_HOSTS=", "SITE_URL=", "BEHIND_TLS_PROXY=1"):
            assert variable in example


def env_file_values(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z_0-9]+)=(.*)$", path.read_text(), flags=re.MULTILINE))


def environment_without(names: set[str]) -> dict[str, str]:
    """This process's environment minus the test run's settings and `names`, so only a .env file can set them."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in names and not key.startswith(("DJANGO_", "PYTEST_"))
    }


class EnvExampleTests(SimpleTestCase):
    def test_a_copied_env_example_breaks_no_command_and_changes_no_setting(self):
        example = ROOT / ".env.example"
        environment = environment_without(set(env_file_values(example)) | {"DEBUG", "SECRET_KEY", "DATABASE_URL"})
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp) / "undersigned"
            shutil.copytree(
                ROOT,
                project,
                symlinks=True,
                ignore=shutil.ignore_patterns(
                    ".venv", ".git", "__pycache__", ".*_cache", "db.sqlite3", ".env", "staticfiles", "docs"
                ),
            )

            def manage(*args: str) -> str:
                result = subprocess.run(
                    [sys.executable, "manage.py", *args],
                    cwd=project,
                    env=environment,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                assert result.returncode == 0, result.stderr
                # Object reprs carry their memory address, which differs per run.
                return re.sub(r" at 0x[0-9a-f]+", "", result.stdout)

            defaults = manage("diffsettings", "--all")
            subprocess.run(["cp", ".env.example", ".env"], cwd=project, check=True)
            assert "System check identified no issues" in manage("check")
            assert manage("diffsettings", "--all") == defaults

    def test_production_example_leaves_hsts_preload_to_the_operator(self):
        example = ROOT / "deploy" / "production.env.example"
        values = env_file_values(example)
        assert values["SECURE_HSTS_PRELOAD"] == "0"
        with tempfile.TemporaryDirectory() as tmp:
            environment = {
                **environment_without(set(values) | {"DEBUG", "DATABASE_URL"}),
                **values,
                "DEBUG": "0",
                "SECRET_KEY": "deploy-check-" + "k" * 50,
                "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            }
            result = subprocess.run(
                [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                cwd=ROOT,
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        # The README's deploy check passes as the file comes, without preloading.
        assert result.returncode == 0, result.stdout + result.stderr


# Stands in for `manage.py` under `make run`: says which SITE_URL Django would
# build emailed links from, for each command make starts, then exits.
SITE_URL_PROBE = """
import os, sys
import django
from django.conf import settings
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "letter_site.settings")
django.setup()
print(sys.argv[1], settings.SITE_URL)
"""


@skipUnless(shutil.which("make"), "needs make")
class MakeRunTests(SimpleTestCase):
    def test_emailed_links_point_at_the_port_make_run_serves(self):
        with tempfile.TemporaryDirectory() as tmp:
            # A stand-in virtualenv that make finds up to date, so it installs nothing.
            (Path(tmp) / ".runtime").touch()
            probe = Path(tmp) / "probe.py"
            probe.write_text(SITE_URL_PROBE)
            result = subprocess.run(
                ["make", "-s", "run", "PORT=8123", f"VENV={tmp}", f"MANAGE={sys.executable} {probe}"],
                cwd=ROOT,
                env={**environment_without({"SITE_URL"}), "PYTHONPATH": str(ROOT)},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        assert result.returncode == 0, result.stdout + result.stderr
        urls = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(("db_", "run")))
        assert urls == {"db_worker": "http://127.0.0.1:8123", "runserver": "http://127.0.0.1:8123"}


def load_gunicorn_config(**environ: str) -> dict:
    source = (ROOT / "gunicorn.conf.py").read_text()
    namespace: dict = {"__file__": str(ROOT / "gunicorn.conf.py")}
    with mock.patch.dict(os.environ, environ, clear=False):
        for name in ("WEB_CONCURRENCY", "LOG_FORMAT", "DATABASE_STATEMENT_TIMEOUT_MS"):
            if name not in environ:
                os.environ.pop(name, None)
        exec(compile(source, "gunicorn.conf.py", "exec"), namespace)  # noqa: S102 (our own config file)
        namespace["_statement_timeout"] = os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS")
    return namespace


class GunicornConfigTests(SimpleTestCase):
    def test_workers_follow_the_cpus_unless_web_concurrency_says(self):
        with mock.patch.object(os, "sched_getaffinity", return_value={0, 1}):
            assert load_gunicorn_config()["workers"] == 5
            assert load_gunicorn_config(WEB_CONCURRENCY="3")["workers"] == 3

    def test_preloads_logs_to_stdout_and_times_out(self):
        config = load_gunicorn_config()
        assert config["preload_app"] is True
        assert config["accesslog"] == "-"
        assert config["errorlog"] == "-"
        assert config["timeout"] == 30
        assert "{x-request-id}o" in config["access_log_format"]

    def test_json_logs_on_request(self):
        config = load_gunicorn_config(LOG_FORMAT="json")
        assert config["logconfig_dict"]["formatters"]["json"]["()"] == "signatures.ops.logs.JsonFormatter"

    def test_web_requests_get_a_statement_timeout_by_default(self):
        assert load_gunicorn_config()["_statement_timeout"] == "10000"
        assert load_gunicorn_config(DATABASE_STATEMENT_TIMEOUT_MS="2500")["_statement_timeout"] == "2500"


def deploy_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n## Deploy\n")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def deploy_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", deploy_section(), flags=re.DOTALL):
        commands += [line.strip() for line in block.splitlines() if line.strip()]
    return commands


# Every command in the README's Deploy section, and where it is run. Docker
# commands cannot run here (no engine): they are checked against
# docker-compose.yml and Django's commands instead.
WHERE_RUN = [
    (r"^git (clone \S+ && cd undersigned|pull)$", "getting the code: not a deployment step"),
    (r"^cp deploy/production\.env\.example \.env$", "test_readme_setup_commands_run"),
    (r"^chmod 600 \.env$", "test_readme_setup_commands_run"),
    (r'^python3 -c "import secrets; print\(secrets\.token_urlsafe\(50\)\)"$', "test_readme_setup_commands_run"),
    (r"^openssl rand -hex 24$", "test_readme_setup_commands_run"),
    (r"^docker compose ", "test_docker_compose_commands_name_real_services_and_commands"),
    (r"^curl -fsS http://127\.0\.0\.1:8000/readyz$", "tests/test_production_smoke.py (/readyz)"),
    (r'^pg_dump --format=custom --file=undersigned\.dump "\$DATABASE_URL"$', "BackupRestoreTests"),
    (r'^pg_restore --clean --if-exists --no-owner --dbname="\$DATABASE_URL" undersigned\.dump$', "BackupRestoreTests"),
    (r"^python3 -m venv venv$", ".ci/image-recipe"),
    (r"^venv/bin/pip install (--require-hashes )?-r requirements\.txt$", ".ci/image-recipe"),
    (r"^venv/bin/python manage\.py compilemessages$", ".ci/image-recipe"),
    (r"^venv/bin/python manage\.py collectstatic --no-input$", ".ci/image-recipe and tests/live_gunicorn.py"),
    (r"^venv/bin/python manage\.py check --deploy --fail-level WARNING$", ".ci/image-recipe"),
    (r"^venv/bin/python manage\.py migrate --no-input$", "tests/test_production_smoke.py"),
    (r"^venv/bin/gunicorn --config gunicorn\.conf\.py letter_site\.wsgi$", "tests/test_production_smoke.py"),
    (r"^venv/bin/python manage\.py db_worker$", "tests/test_production_smoke.py"),
    (r"^venv/bin/python manage\.py send_emails$", "tests/test_production_smoke.py"),
]


class ReadmeDeployTests(SimpleTestCase):
    def test_every_deploy_command_is_run_in_ci_or_by_the_tests(self):
        commands = deploy_commands()
        assert len(commands) > 15
        unaccounted = [command for command in commands if not any(re.search(p, command) for p, _ in WHERE_RUN)]
        assert unaccounted == [], "add each new Deploy command to CI or a test, then to WHERE_RUN"

    def test_readme_setup_commands_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["cp", str(ROOT / "deploy" / "production.env.example"), ".env"], cwd=tmp, check=True)
            subprocess.run(["chmod", "600", ".env"], cwd=tmp, check=True)
            assert (Path(tmp) / ".env").stat().st_mode & 0o777 == 0o600
        secret = subprocess.run(
            [sys.executable, "-c", "import secrets; print(secrets.token_urlsafe(50))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert len(secret) >= 50
        if shutil.which("openssl"):
            password = subprocess.run(
                ["openssl", "rand", "-hex", "24"], capture_output=True, text=True, check=True
            ).stdout.strip()
            assert re.fullmatch(r"[0-9a-f]{48}", password), "letters and digits only: it goes into a URL"

    def test_docker_compose_commands_name_real_services_and_commands(self):

        services = set(load_compose()["services"])
        for command in deploy_commands():
            if not command.startswith("docker compose "):
                continue
            words = command.split()
            verb = words[2]
            assert verb in {"up", "ps", "run", "exec", "logs", "stop"}, command
            if verb in {"run", "exec"}:
                service = next(word for word in words[3:] if not word.startswith("-"))
                assert service in services, command
                if "manage.py" in words:
                    assert words[words.index("manage.py") + 1] in get_commands(), command
            for scale in re.findall(r"--scale (\w+)=\d+", command):
                assert scale in services, command
        for service in re.findall(r"docker compose (?:stop|logs) ([\w ]+)", deploy_section()):
            assert set(service.split()) <= services, service

    def test_the_caddy_example_proxies_to_the_published_port(self):
        caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
        assert "reverse_proxy 127.0.0.1:8000" in caddyfile
        assert "127.0.0.1}:${WEB_PORT:-8000}:8000" in (ROOT / "docker-compose.yml").read_text()


@skipUnless(connection.vendor == "postgresql", "pg_dump and pg_restore need PostgreSQL")
class BackupRestoreTests(TransactionTestCase):
    """The README's backup and restore commands, run as written against a real database."""

    def database_url(self, name: str) -> str:
        db = connection.settings_dict
        user = urllib.parse.quote(db["USER"] or "postgres")
        password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"

    def run_readme_command(self, command: str, database_url: str, cwd: str) -> None:
        subprocess.run(
            command, shell=True, cwd=cwd, env={**os.environ, "DATABASE_URL": database_url}, check=True, timeout=60
        )

    def test_a_dump_restores_into_an_empty_and_into_a_used_database(self):
        letter = make_letter(title="Backed up")
        make_signature(letter, Signature.State.APPROVED, full_name="Kept Safe")
        readme = deploy_section()
        dump = re.search(r'^pg_dump .*"\$DATABASE_URL"$', readme, flags=re.MULTILINE).group(0)
        restore = re.search(r"^pg_restore .*undersigned\.dump$", readme, flags=re.MULTILINE).group(0)
        scratch = f"{connection.settings_dict['NAME']}_restore"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
            cursor.execute(f'CREATE DATABASE "{scratch}"')
        self.addCleanup(self.drop_database, scratch)

        with tempfile.TemporaryDirectory() as tmp:
            self.run_readme_command(dump, self.database_url(connection.settings_dict["NAME"]), tmp)
            for _time in range(2):  # into an empty database, then over the restored one (--clean)
                self.run_readme_command(restore, self.database_url(scratch), tmp)
                restored = subprocess.run(
                    [
                        "psql",
                        "--tuples-only",
                        "--no-align",
                        "--dbname",
                        self.database_url(scratch),
                        "--command",
                        "SELECT full_name FROM signatures_signature",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=30,
                ).stdout.split("\n")
                assert "Kept Safe" in restored

    def drop_database(self, name: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
