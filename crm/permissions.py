"""Who may change which customer fields: the one place pages, API and services ask.

- Sales reps change the customers they own (not the owner, not the credit limit).
- Finance clerks change any customer's billing details.
- Sales and finance managers change every customer, owner included.
- Only finance managers (and admins) change credit limits.
Everyone with a role reads every customer (Customer.objects.visible_to).
"""

from .models import Customer


def editable_customer_fields(user, customer: Customer | None = None) -> frozenset[str]:
    """Fields `user` may set on `customer`, or on a new customer when None."""
    if not user.is_authenticated:
        return frozenset()
    fields: set[str] = set()
    if customer is None:
        if user.has_perm("crm.add_customer"):
            fields.update(Customer.GENERAL_FIELDS, Customer.BILLING_FIELDS)
            if user.has_perm("crm.change_customer"):
                fields.update(Customer.MANAGED_FIELDS)
    elif user.has_perm("crm.change_customer"):
        fields.update(Customer.GENERAL_FIELDS, Customer.BILLING_FIELDS, Customer.MANAGED_FIELDS)
    elif user.has_perm("crm.change_own_customer") and customer.owner_id == user.pk:
        fields.update(Customer.GENERAL_FIELDS, Customer.BILLING_FIELDS)
    if customer is not None and user.has_perm("crm.change_customer_billing"):
        fields.update(Customer.BILLING_FIELDS)
    if user.has_perm("crm.change_customer_credit_limit") and (customer is not None or fields):
        fields.update(Customer.CREDIT_FIELDS)
    return frozenset(fields)


def can_create_customer(user) -> bool:
    return user.is_authenticated and user.has_perm("crm.add_customer")


def can_edit_customer(user, customer: Customer) -> bool:
    return bool(editable_customer_fields(user, customer))


def can_change_credit_limit(user, customer: Customer | None = None) -> bool:
    return "credit_limit" in editable_customer_fields(user, customer)


def can_edit_contacts(user, customer: Customer) -> bool:
    """Whoever may edit a customer at all keeps its contacts: reps their own
    customers, finance the billing contacts of any."""
    return can_edit_customer(user, customer)
