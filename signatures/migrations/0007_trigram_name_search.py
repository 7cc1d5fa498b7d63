"""
A trigram index so that searching the public list by part of a name
(`name_key LIKE '%lopez%'`) stays fast at a million signatures.

PostgreSQL only: SQLite has no pg_trgm and scans, which is fine at its scale.
Written as SQL so that the model state (and SQLite) are untouched.
"""

from django.db import migrations

INDEX = "signature_name_key_trgm_idx"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON signatures_signature "
        "USING gin (name_key gin_trgm_ops) WHERE state = 'approved' AND wants_listing"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("signatures", "0006_create_moderators_group")]

    operations = [migrations.RunPython(create_trigram_index, drop_trigram_index)]
