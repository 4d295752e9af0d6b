from django.db import migrations

from accounts.roles import ADMIN, FINANCE_CLERK, FINANCE_MANAGER, SALES_MANAGER, SALES_REP, grant

# The pipeline as Salesforce and Odoo start it: (name, order, probability, won, lost).
STAGES = [
    ("Qualification", 10, 10, False, False),
    ("Needs analysis", 20, 25, False, False),
    ("Proposal", 30, 50, False, False),
    ("Negotiation", 40, 75, False, False),
    ("Won", 90, 100, True, False),
    ("Lost", 100, 0, False, True),
]

READ = ["view_product", "view_taxrate", "view_stage"]
GRANTS = {
    SALES_REP: READ,
    SALES_MANAGER: READ + ["add_product", "change_product", "add_stage", "change_stage"],
    FINANCE_CLERK: READ,
    FINANCE_MANAGER: READ + ["add_product", "change_product", "add_taxrate", "change_taxrate"],
    ADMIN: READ + ["add_product", "change_product", "add_taxrate", "change_taxrate", "add_stage", "change_stage"],
}


def add_stages(apps, schema_editor):
    Stage = apps.get_model("crm", "Stage")
    for name, order, probability, won, lost in STAGES:
        Stage.objects.get_or_create(
            name=name, defaults={"order": order, "probability": probability, "is_won": won, "is_lost": lost}
        )


def grant_permissions(apps, schema_editor):
    grant(apps, "crm", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("crm", "0007_catalog_and_stages")]
    operations = [
        migrations.RunPython(add_stages, migrations.RunPython.noop),
        migrations.RunPython(grant_permissions, migrations.RunPython.noop),
    ]
