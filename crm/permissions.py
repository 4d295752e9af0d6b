"""Who may do what to customers and contacts: the one place the services, the
pages, the admin and the API ask.

- Every role reads every customer (Customer.objects.visible_to).
- Sales reps create customers and change the ones they own (not the owner, not
  the credit limit).
- Finance clerks change any customer's billing details.
- Sales and finance managers change every customer, owner included.
- Only finance managers (and admins) change credit limits.
- Only admins delete customers.
- Whoever may change anything on a customer keeps its contacts.

CUSTOMER_FIELDS declares the field groups once (core.permissions): the service
refuses a change outside `CUSTOMER_FIELDS.editable(user, customer)`, the form
and the admin show those fields read-only with the group's reason, and the
record page says which groups the user may change.
"""

from core.permissions import FieldGroup, FieldPolicy

from .models import Customer


def _owns(user, customer: Customer) -> bool:
    return customer.owner_id == user.pk


def _may_change_general(user, customer: Customer | None) -> bool:
    if customer is None:
        return user.has_perm("crm.add_customer")
    return user.has_perm("crm.change_customer") or (user.has_perm("crm.change_own_customer") and _owns(user, customer))


def _may_change_billing(user, customer: Customer | None) -> bool:
    return _may_change_general(user, customer) or (
        customer is not None and user.has_perm("crm.change_customer_billing")
    )


def _may_change_owner(user, customer: Customer | None) -> bool:
    if customer is None:
        return user.has_perm("crm.add_customer") and user.has_perm("crm.change_customer")
    return user.has_perm("crm.change_customer")


def _may_change_credit(user, customer: Customer | None) -> bool:
    if customer is None and not user.has_perm("crm.add_customer"):
        return False
    return user.has_perm("crm.change_customer_credit_limit")


CUSTOMER_FIELDS = FieldPolicy(
    FieldGroup(
        name="general",
        label="general details",
        kept_by="the customer's sales owner",
        plural=True,
        fields=("name", "email", "phone", "status"),
        reason="Kept by the customer's sales owner.",
        rule=_may_change_general,
    ),
    FieldGroup(
        name="billing",
        label="billing details",
        kept_by="finance",
        plural=True,
        fields=(
            "legal_name",
            "tax_id",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "region",
            "country",
            "currency",
            "payment_terms",
            "payment_days",
        ),
        reason="Kept by finance.",
        rule=_may_change_billing,
    ),
    FieldGroup(
        name="owner",
        label="owner",
        kept_by="sales and finance managers",
        fields=("owner",),
        reason="Only sales and finance managers reassign customers.",
        rule=_may_change_owner,
    ),
    FieldGroup(
        name="credit",
        label="credit limit",
        kept_by="finance managers",
        fields=("credit_limit",),
        reason="Only finance managers change credit limits.",
        rule=_may_change_credit,
    ),
)


def editable_customer_fields(user, customer: Customer | None = None) -> frozenset[str]:
    """Fields `user` may set on `customer`, or on a new customer when None."""
    return CUSTOMER_FIELDS.editable(user, customer)


def can_create_customer(user) -> bool:
    return user.is_authenticated and user.has_perm("crm.add_customer")


def can_edit_customer(user, customer: Customer) -> bool:
    """May `user` change anything at all on `customer`?"""
    return bool(CUSTOMER_FIELDS.allowed_groups(user, customer))


def can_delete_customer(user, customer: Customer | None = None) -> bool:
    return user.is_authenticated and user.has_perm("crm.delete_customer")


def can_edit_contacts(user, customer: Customer) -> bool:
    """Whoever may edit a customer at all keeps its contacts: reps their own
    customers, finance the billing contacts of any."""
    return can_edit_customer(user, customer)


# --- Selling: leads, deals, quotes, service cases -------------------------------------
# Every role reads them all. Reps change their own leads and deals (a deal's quotes
# with it); sales managers change all and reassign owners; finance only reads.


def can_create_lead(user) -> bool:
    return user.is_authenticated and user.has_perm("crm.add_lead")


def can_edit_lead(user, lead) -> bool:
    return user.has_perm("crm.change_lead") or (user.has_perm("crm.change_own_lead") and lead.owner_id == user.pk)


def can_create_opportunity(user) -> bool:
    return user.is_authenticated and user.has_perm("crm.add_opportunity")


def can_edit_opportunity(user, opportunity) -> bool:
    return user.has_perm("crm.change_opportunity") or (
        user.has_perm("crm.change_own_opportunity") and opportunity.owner_id == user.pk
    )


def can_reassign(user) -> bool:
    """Sales managers (and admins) give leads and deals to another rep."""
    return user.has_perm("crm.change_opportunity") and user.has_perm("crm.change_lead")


def can_quote(user, opportunity) -> bool:
    """Make, send and record the answer to quotes: whoever may change the deal."""
    return user.has_perm("crm.add_quote") and can_edit_opportunity(user, opportunity)


def can_log_case(user) -> bool:
    return user.is_authenticated and user.has_perm("crm.add_servicecase")


def can_edit_case(user, case) -> bool:
    return user.is_authenticated and user.has_perm("crm.change_servicecase")
