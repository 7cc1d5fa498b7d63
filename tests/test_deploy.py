"""
The deployment files: the Dockerfile passes hadolint, CI replays its build
steps, docker-compose.yml is valid Compose, and gunicorn.conf.py says what the
README promises. (No Docker engine here: the image itself is built elsewhere.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from unittest import mock

import jsonschema
import yaml
from django.test import SimpleTestCase

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
        result = subprocess.run(  # noqa: S603 (hadolint from requirements-dev.txt)
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
        result = subprocess.run(  # noqa: S603
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
        subprocess.run(["bash", "-n", str(recipe)], check=True, timeout=10)  # noqa: S603, S607

    def test_the_recipe_runs_the_dockerfiles_build_steps(self):
        recipe = (ROOT / ".ci" / "image-recipe").read_text()
        for step in (
            'pip" wheel',
            '-r "$APP/requirements.txt"',
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
        assert set(services) == {"db", "redis", "migrate", "web", "worker"}
        assert services["redis"]["profiles"] == ["redis"]
        assert services["web"]["image"] == services["worker"]["image"] == services["migrate"]["image"]
        assert "command" not in services["web"], "web runs the image's gunicorn command"
        assert services["worker"]["command"] == ["python", "manage.py", "db_worker"]

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
        assert config["logconfig_dict"]["formatters"]["json"]["()"] == "signatures.logs.JsonFormatter"

    def test_web_requests_get_a_statement_timeout_by_default(self):
        assert load_gunicorn_config()["_statement_timeout"] == "10000"
        assert load_gunicorn_config(DATABASE_STATEMENT_TIMEOUT_MS="2500")["_statement_timeout"] == "2500"
