from django.db import migrations

from accounts.roles import ADMIN, FINANCE_CLERK, FINANCE_MANAGER, SALES_MANAGER, SALES_REP, grant

# Finance (and sales managers) read every payment and customer standing; reps read those
# of their own customers. Clerks record, allocate and void payments, ask for write-offs,
# send statements and choose who gets one monthly; finance managers also approve
# write-offs and set credit holds.
READ = ["view_payment", "view_allocation", "view_writeoff", "view_credithold", "view_standing"]
OWN = ["view_own_payment", "view_credithold"]
CLERK = ["add_payment", "allocate_payment", "void_payment", "add_writeoff", "change_standing"]
MANAGER = CLERK + ["approve_writeoff", "add_credithold", "change_credithold"]
GRANTS = {
    SALES_REP: OWN,
    SALES_MANAGER: READ,
    FINANCE_CLERK: READ + CLERK,
    FINANCE_MANAGER: READ + MANAGER,
    ADMIN: READ + MANAGER,
}


def grant_permissions(apps, schema_editor):
    grant(apps, "receivables", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("receivables", "0001_ledger")]
    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
