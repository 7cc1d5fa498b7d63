import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _emails_sent_on_commit(settings):
    # Most tests read `mail.outbox` after `captureOnCommitCallbacks(execute=True)`:
    # a queued email is sent when its transaction commits. Tests of the queue
    # itself turn that off and run the worker (tests/test_email_queue.py).
    settings.SIGNATURES_EMAIL_SEND_ON_COMMIT = True
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []},
    }
