"""The customer's fields, declared once, in the order every surface shows them.

The API (crm.api.customers), the CSV export (crm.views.customers), the admin (crm.admin) and the record
page list a customer's own fields; they read this declaration (or are checked
against it by tests/crm/test_customer_fields.py), so a field added to the model is
added here once and appears everywhere, in the same order.
"""

from django.utils.text import capfirst

from .models import Customer

# The fields people enter and change, in display order. Who may change which is
# decided by crm.permissions; derived facts (billing name, terms label, owner name)
# and timestamps are not in this list.
CUSTOMER_FIELD_ORDER = (
    "name",
    "legal_name",
    "tax_id",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "currency",
    "payment_terms",
    "payment_days",
    "credit_limit",
    "owner",
    "status",
)


def customer_csv_columns() -> dict[str, str]:
    """CSV header → the column read with values_list(): every customer field under its
    label (the owner by username), then when it was last updated."""
    columns = {}
    for name in CUSTOMER_FIELD_ORDER:
        field = Customer._meta.get_field(name)
        columns[capfirst(field.verbose_name)] = f"{name}__username" if field.is_relation else name
    columns["Updated"] = "updated_at"
    return columns
