from django.db import migrations

from accounts.roles import ADMIN, FINANCE_CLERK, FINANCE_MANAGER, SALES_MANAGER, SALES_REP, grant

# Every role reads invoices, credit notes, plans and runs. Clerks draft, issue, send
# and credit invoices and run billing; finance managers also void invoices and keep
# the billing plans. Sales people may only draft an invoice from their own won deals.
READ = ["view_invoice", "view_creditnote", "view_billingplan", "view_billingrun"]
CLERK = ["add_invoice", "change_invoice", "issue_invoice", "send_invoice", "add_creditnote", "add_billingrun"]
MANAGER = CLERK + ["void_invoice", "add_billingplan", "change_billingplan"]
GRANTS = {
    SALES_REP: READ + ["invoice_own_deal"],
    SALES_MANAGER: READ + ["invoice_own_deal"],
    FINANCE_CLERK: READ + CLERK,
    FINANCE_MANAGER: READ + MANAGER,
    ADMIN: READ + MANAGER,
}


def grant_permissions(apps, schema_editor):
    grant(apps, "billing", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_invoices")]
    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
