from django.db import migrations

from accounts.roles import ADMIN, FINANCE_CLERK, FINANCE_MANAGER, SALES_MANAGER, SALES_REP, grant

# Every role reads all of the CRM. Reps manage their own leads and deals (and the
# deals' quotes); sales managers manage all of them and reassign owners. Anyone logs
# and works service cases.
READ = ["view_lead", "view_opportunity", "view_quote", "view_servicecase"]
CASES = ["add_servicecase", "change_servicecase"]
GRANTS = {
    SALES_REP: READ + CASES + ["add_lead", "change_own_lead", "add_opportunity", "change_own_opportunity", "add_quote"],
    SALES_MANAGER: READ
    + CASES
    + ["add_lead", "change_lead", "change_own_lead", "add_opportunity", "change_opportunity"]
    + ["change_own_opportunity", "add_quote", "change_quote"],
    FINANCE_CLERK: READ + CASES,
    FINANCE_MANAGER: READ + CASES,
    ADMIN: READ
    + CASES
    + ["add_lead", "change_lead", "change_own_lead", "delete_lead", "add_opportunity", "change_opportunity"]
    + ["change_own_opportunity", "add_quote", "change_quote", "delete_servicecase"],
}


def grant_permissions(apps, schema_editor):
    grant(apps, "crm", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("crm", "0009_selling")]
    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
