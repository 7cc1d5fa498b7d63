from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # The default shared cache (rate limits, page fragments) lives in the
    # database; creating its table here means `migrate` is the only set-up step.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("signatures", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=True)]
