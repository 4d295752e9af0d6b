"""Operations that change customers and contacts. Pages, the admin, the API,
commands and tests all call these; none writes a Customer or Contact another way.

Each checks who may do it (crm.permissions) on the names of the fields it is
asked to change, before assigning anything, so a value nobody may set is
refused the same way whether or not it is even valid.
"""

from typing import Any

from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError

import collaboration
from accounts.roles import SALES_ROLES
from core.concurrency import StaleVersion, check_version

from .models import Contact, Customer, normalize_tax_id, possible_owners
from .permissions import CUSTOMER_FIELDS, can_create_customer, can_delete_customer, can_edit_contacts, can_edit_customer

__all__ = [
    "CustomerInUse",
    "StaleVersion",
    "create_contact",
    "create_customer",
    "credit_exception_decided",
    "delete_contact",
    "delete_customer",
    "refuse_forbidden_changes",
    "update_contact",
    "update_customer",
]

DUPLICATE_TAX_ID = "A customer with this tax ID already exists."
OWNER_REQUIRED = "Choose the sales rep who owns this customer."
OWNER_NOT_IN_SALES = "The owner must be an active sales rep or sales manager."
CONTACT_FIELDS = frozenset({"name", "email", "phone", "job_title", "is_primary"})


class CustomerInUse(Exception):
    """Other records (invoices, payments…) still point to the customer."""


def _label(field: str) -> str:
    try:
        return str(Customer._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


def _as_stored(model, name: str, value):
    """`value` as the column would hold it; raises if it cannot be held at all."""
    field = model._meta.get_field(name)
    if field.is_relation:
        return value.pk if isinstance(value, models.Model) else field.target_field.to_python(value)
    value = field.to_python(value)
    if model is Customer and name == "tax_id":
        value = normalize_tax_id(value)
    return value


def _changes(record, data: dict[str, Any]) -> dict[str, Any]:
    """The items of `data` whose value differs from `record`'s.

    Compared as stored (a tax id normalised, "10000" equal to Decimal("10000.00"));
    a value that cannot be stored at all, or a field that does not exist, counts
    as a change, so the permission check sees it before anything is assigned."""
    changed = {}
    for name, value in data.items():
        try:
            field = record._meta.get_field(name)
            current = getattr(record, field.attname)
            differs = _as_stored(type(record), name, value) != current
        except (FieldDoesNotExist, ValidationError, TypeError, ValueError, AttributeError):
            differs = True
        if differs:
            changed[name] = value
    return changed


def _assign(record, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        field = record._meta.get_field(name)
        if field.is_relation and not isinstance(value, field.related_model):
            raise ValidationError({name: f"Choose a valid {field.verbose_name}."})
        setattr(record, name, value)


def _refuse_forbidden(by, customer: Customer | None, changes: dict[str, Any]) -> None:
    forbidden = CUSTOMER_FIELDS.forbidden(by, customer, changes)
    if forbidden:
        names = ", ".join(sorted(_label(field) for field in forbidden))
        raise PermissionDenied(f"You may not change: {names}.")


def _check_owner(customer: Customer, changes: dict[str, Any]) -> None:
    if "owner" in changes and not possible_owners().filter(pk=customer.owner_id).exists():
        raise ValidationError({"owner": OWNER_NOT_IN_SALES})


def _validate_and_save(customer: Customer, update_fields: list[str] | None = None) -> None:
    # full_clean normalises the tax id (Customer.clean); on an update it checks only
    # the fields that change. Constraints are left to the database: a duplicate tax
    # id is reported on its field below, whether it was there already or written by
    # a request racing this one.
    # Who saved it is set here from `by`, never typed: checking that the user exists costs a query.
    exclude = {"updated_by"}
    if update_fields is not None:
        exclude |= {field.name for field in Customer._meta.fields if field.name not in update_fields}
    customer.full_clean(exclude=exclude, validate_constraints=False)
    try:
        with transaction.atomic():
            customer.save(update_fields=update_fields)
    except IntegrityError:
        # Ask the database what the conflict is rather than parsing its message.
        if customer.tax_id and Customer.objects.filter(tax_id=customer.tax_id).exclude(pk=customer.pk).exists():
            raise ValidationError({"tax_id": DUPLICATE_TAX_ID}) from None
        raise


def _new_customer(by) -> Customer:
    customer = Customer()
    if by.has_role(*SALES_ROLES):
        customer.owner = by  # whoever sells it owns it, unless they name another
    return customer


def refuse_forbidden_changes(*, by, customer: Customer | None, data: dict[str, Any]) -> None:
    """Raise PermissionDenied if `data` would change a customer field `by` may not
    (on a new customer when `customer` is None), or `by` may not change
    `customer` at all. Assigns and saves nothing.

    `data` may be raw input (an API body before validation): a value that is
    not even valid for a field counts as a change to it. The API calls this
    first, so a forbidden change is a 403 whatever else the body holds."""
    if customer is None:
        if not can_create_customer(by):
            raise PermissionDenied("You may not create customers.")
        reference = _new_customer(by)
    else:
        if not can_edit_customer(by, customer):
            raise PermissionDenied("You may not change this customer.")
        reference = customer
    guarded = {name: value for name, value in data.items() if name in CUSTOMER_FIELDS.fields}
    _refuse_forbidden(by, customer, _changes(reference, guarded))


@transaction.atomic
def create_customer(*, by, data: dict[str, Any]) -> Customer:
    """Create a customer. A sales user becomes its owner unless they name another
    (managers may); anyone else must name the sales rep who owns it."""
    if not can_create_customer(by):
        raise PermissionDenied("You may not create customers.")
    customer = _new_customer(by)
    changes = _changes(customer, data)
    _refuse_forbidden(by, None, changes)
    _assign(customer, changes)
    if customer.owner_id is None:
        # A customer always has a sales owner; say so along with any other mistakes.
        try:
            customer.full_clean(exclude=["owner"], validate_constraints=False)
        except ValidationError as error:
            raise ValidationError({**error.message_dict, "owner": [OWNER_REQUIRED]}) from None
        raise ValidationError({"owner": OWNER_REQUIRED})
    _check_owner(customer, changes)
    customer.updated_by = by
    _validate_and_save(customer)
    collaboration.publish(customer, "customer.created", actor=by)
    # Whoever creates a customer and whoever owns it follow its feed.
    collaboration.follow(by, customer)
    collaboration.follow(customer.owner, customer)
    return customer


@transaction.atomic
def update_customer(*, customer: Customer, by, data: dict[str, Any], expected_version: int | None = None) -> Customer:
    """Change a customer's fields.

    Only fields whose value really changes are checked against what `by` may
    edit, so a form or a PUT that sends an unchanged credit limit back is fine for
    a clerk. With `expected_version`, raises StaleVersion when someone else
    changed the customer since the caller read it."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not can_edit_customer(by, customer):
        raise PermissionDenied("You may not change this customer.")
    check_version(customer, expected_version)
    changes = _changes(customer, data)
    _refuse_forbidden(by, customer, changes)
    if changes:
        before = collaboration.tracked_values(customer)
        _assign(customer, changes)
        _check_owner(customer, changes)
        customer.version += 1  # under the row lock: two saves never share a version
        customer.updated_by = by
        _validate_and_save(customer, update_fields=[*changes, "version", "updated_at", "updated_by"])
        collaboration.publish_changes(customer, before, by=by)
        if "owner" in changes:
            collaboration.follow(customer.owner, customer)  # a new owner follows what they now own
    return customer


@transaction.atomic
def delete_customer(*, customer: Customer, by, expected_version: int | None = None) -> None:
    """Delete a customer entered by mistake. Only admins may, and only while
    nothing else points to it; a customer with history is set inactive instead."""
    if not can_delete_customer(by, customer):
        raise PermissionDenied("Only administrators may delete customers; set the customer inactive instead.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    check_version(customer, expected_version)
    try:
        with transaction.atomic():
            collaboration.forget_record(customer)
            customer.delete()
    except ProtectedError as error:
        raise CustomerInUse(
            "This customer cannot be deleted while invoices or other records point to it; set it inactive instead."
        ) from error


def _check_contacts(by, customer: Customer) -> None:
    if not can_edit_contacts(by, customer):
        raise PermissionDenied("You may not change this customer's contacts.")


def _refuse_unknown_contact_fields(data: dict[str, Any]) -> None:
    unknown = set(data) - CONTACT_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})


def _save_contact(contact: Contact) -> Contact:
    contact.full_clean(validate_constraints=False)
    if contact.is_primary:
        # One primary contact per customer: naming a new one demotes the old one.
        Contact.objects.filter(customer=contact.customer_id, is_primary=True).exclude(pk=contact.pk).update(
            is_primary=False
        )
    contact.save()
    return contact


@transaction.atomic
def create_contact(*, customer: Customer, by, data: dict[str, Any]) -> Contact:
    _check_contacts(by, customer)
    _refuse_unknown_contact_fields(data)
    # Lock the customer so two requests naming a primary contact queue up.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    contact = Contact(customer=customer)
    _assign(contact, data)
    if not customer.contacts.exists():
        contact.is_primary = True  # the first contact is whom documents go to
    return _save_contact(contact)


@transaction.atomic
def update_contact(*, contact: Contact, by, data: dict[str, Any], expected_version: int | None = None) -> Contact:
    """Change a contact. A contact stays with its customer: sending the same
    customer back is fine, another one is a field error."""
    _check_contacts(by, contact.customer)
    data = dict(data)
    if "customer" in data:
        moved_to = data.pop("customer")
        if getattr(moved_to, "pk", moved_to) != contact.customer_id:
            raise ValidationError({"customer": "A contact cannot move to another customer."})
    _refuse_unknown_contact_fields(data)
    # The customer's lock queues every change to its contacts (one primary each).
    Customer.objects.select_for_update().filter(pk=contact.customer_id).first()
    contact = Contact.objects.select_related("customer").get(pk=contact.pk)
    check_version(contact, expected_version)
    changes = _changes(contact, data)
    if changes:
        _assign(contact, changes)
        contact.version += 1
        _save_contact(contact)
    return contact


@transaction.atomic
def delete_contact(*, contact: Contact, by, expected_version: int | None = None) -> None:
    _check_contacts(by, contact.customer)
    Customer.objects.select_for_update().filter(pk=contact.customer_id).first()
    contact = Contact.objects.get(pk=contact.pk)
    check_version(contact, expected_version)
    contact.delete()


# --- Approvals (registered in crm.apps) -------------------------------------------


def credit_exception_decided(approval, *, by) -> None:
    """A finance manager decided whether this customer may be sold to above its credit
    limit ("crm.credit_limit_exception"). The decision is on the customer's feed
    already (collaboration publishes it); quotes and orders read it when they exist,
    so nothing more is recorded on the customer now."""
    return None
