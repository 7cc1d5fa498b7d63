"""The Moderators group: view and moderate signatures, see letters and surge flags, nothing else."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Moderators"

# (app_label, codename). No delete, no letter or watchlist edits, no users.
PERMISSIONS = [
    ("signatures", "view_signature"),
    ("signatures", "moderate_signature"),
    ("signatures", "view_letter"),
    ("signatures", "view_profession"),
    ("signatures", "view_surgeflag"),
    ("signatures", "view_invalidationrun"),
]


def create_moderators_group(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    # (create_permissions skips app configs without models_module, which
    # historical app configs lack; restore it so real app configs are untouched.)
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def delete_moderators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0005_moderation_tools_and_admin_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_moderators_group, delete_moderators_group),
    ]
