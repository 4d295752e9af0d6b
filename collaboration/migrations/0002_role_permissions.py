from django.db import migrations

from accounts.roles import ROLES, grant

# Every role reads the feed of the records it may see, posts, comments, likes and follows there,
# and asks for approvals.
EVERYONE = ["view_feeditem", "add_feeditem", "view_approvalrequest", "add_approvalrequest"]


def grant_permissions(apps, schema_editor):
    grant(apps, "collaboration", {role: EVERYONE for role in ROLES})


class Migration(migrations.Migration):
    dependencies = [("collaboration", "0001_initial"), ("accounts", "0002_roles")]
    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
