from django.db import migrations

from accounts.roles import ADMIN, FINANCE_CLERK, FINANCE_MANAGER, SALES_MANAGER, SALES_REP, grant

READ = ["view_customer", "view_contact"]
CONTACTS = ["add_contact", "change_contact", "delete_contact"]

GRANTS = {
    SALES_REP: READ + CONTACTS + ["add_customer", "change_own_customer"],
    SALES_MANAGER: READ + CONTACTS + ["add_customer", "change_customer"],
    FINANCE_CLERK: READ + CONTACTS + ["change_customer_billing"],
    FINANCE_MANAGER: READ + CONTACTS + ["add_customer", "change_customer", "change_customer_credit_limit"],
    ADMIN: READ + CONTACTS + [
        "add_customer", "change_customer", "delete_customer", "change_customer_credit_limit",
        "change_own_customer", "change_customer_billing",
    ],
}


def grant_permissions(apps, schema_editor):
    grant(apps, "crm", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial"), ("accounts", "0002_roles")]
    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
