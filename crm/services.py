"""Operations that change customers and contacts. Pages, the API, commands and
tests all call these; none writes a Customer or Contact another way."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from .models import Contact, Customer, normalize_tax_id, possible_owners
from .permissions import can_create_customer, can_edit_contacts, editable_customer_fields

DUPLICATE_TAX_ID = "A customer with this tax ID already exists."


def _label(field: str) -> str:
    return str(Customer._meta.get_field(field).verbose_name)


def _check_fields(by, customer: Customer | None, changed: set[str]) -> None:
    forbidden = changed - editable_customer_fields(by, customer)
    if forbidden:
        names = ", ".join(sorted(_label(field) for field in forbidden))
        raise PermissionDenied(f"You may not change: {names}.")


def _apply(customer: Customer, data: dict[str, Any]) -> set[str]:
    """Set the values that differ; return the names of the fields that changed."""
    if "tax_id" in data:
        data = {**data, "tax_id": normalize_tax_id(data["tax_id"])}
    changed = set()
    for field, value in data.items():
        if getattr(customer, field) != value:
            setattr(customer, field, value)
            changed.add(field)
    return changed


def _check_owner(customer: Customer, changed: set[str]) -> None:
    if "owner" in changed and not possible_owners().filter(pk=customer.owner_id).exists():
        raise ValidationError({"owner": "The owner must be an active sales rep or sales manager."})


def _validate_and_save(customer: Customer, update_fields: list[str] | None = None) -> None:
    # validate_constraints is done here by hand so a duplicate tax id is reported on
    # its field; the database constraint still catches two requests racing.
    customer.full_clean(validate_constraints=False)
    if customer.tax_id and Customer.objects.filter(tax_id=customer.tax_id).exclude(pk=customer.pk).exists():
        raise ValidationError({"tax_id": DUPLICATE_TAX_ID})
    try:
        with transaction.atomic():
            customer.save(update_fields=update_fields)
    except IntegrityError as error:
        if "tax_id" in str(error) or "crm_customer_unique_tax_id" in str(error):
            raise ValidationError({"tax_id": DUPLICATE_TAX_ID}) from error
        raise


@transaction.atomic
def create_customer(*, by, data: dict[str, Any]) -> Customer:
    """Create a customer. A rep becomes its owner; managers may name another owner."""
    if not can_create_customer(by):
        raise PermissionDenied("You may not create customers.")
    _check_fields(by, None, set(data) - {"owner"})
    customer = Customer(owner=by)
    changed = _apply(customer, data)
    if "owner" in changed:
        _check_fields(by, None, {"owner"})
        _check_owner(customer, changed)
    _validate_and_save(customer)
    return customer


@transaction.atomic
def update_customer(*, customer: Customer, by, data: dict[str, Any]) -> Customer:
    """Change a customer's fields. Only fields whose value really changes are
    checked against what `by` may edit, so a form or a PUT that sends an unchanged
    credit limit back is fine for a clerk."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    changed = _apply(customer, data)
    _check_fields(by, customer, changed)
    _check_owner(customer, changed)
    if changed:
        _validate_and_save(customer, update_fields=[*changed, "updated_at"])
    return customer


class CustomerInUse(Exception):
    """Other records (invoices, payments…) still point to the customer."""


@transaction.atomic
def delete_customer(*, customer: Customer, by) -> None:
    """Delete a customer entered by mistake. Only admins may, and only while
    nothing else points to it; a customer with history is set inactive instead."""
    if not by.has_perm("crm.delete_customer"):
        raise PermissionDenied("Only administrators may delete customers; set the customer inactive instead.")
    try:
        customer.delete()
    except ProtectedError as error:
        raise CustomerInUse(
            "This customer cannot be deleted while invoices or other records point to it; set it inactive instead."
        ) from error


def _check_contacts(by, customer: Customer) -> None:
    if not can_edit_contacts(by, customer):
        raise PermissionDenied("You may not change this customer's contacts.")


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
    # Lock the customer so two requests naming a primary contact queue up.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    contact = Contact(customer=customer, **data)
    if not customer.contacts.exists():
        contact.is_primary = True  # the first contact is whom documents go to
    return _save_contact(contact)


@transaction.atomic
def update_contact(*, contact: Contact, by, data: dict[str, Any]) -> Contact:
    _check_contacts(by, contact.customer)
    Customer.objects.select_for_update().filter(pk=contact.customer_id).first()
    contact = Contact.objects.select_related("customer").get(pk=contact.pk)
    for field, value in data.items():
        if field == "customer" and value != contact.customer:
            raise ValidationError({"customer": "A contact cannot move to another customer."})
        setattr(contact, field, value)
    return _save_contact(contact)


@transaction.atomic
def delete_contact(*, contact: Contact, by) -> None:
    _check_contacts(by, contact.customer)
    contact.delete()
