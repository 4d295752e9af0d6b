"""Operations on leads: create, change (status, owner), find the customers a lead may
already be, and convert it. Pages, the API, the demo and tests call these; nothing
writes a Lead another way.

- A rep creates leads and changes their own; sales managers change all and give a
  lead to another rep (crm.permissions).
- A disqualified lead says why; a converted lead is what it became and is read-only.
- Conversion (as Salesforce converts): any lead that is not disqualified, in one
  transaction, into a customer (an existing match the user confirmed, or a new one),
  a contact (unless the customer has one with that email already) and, if asked, a
  deal. It happens once: converting again is refused (LeadAlreadyConverted, a 409).
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import collaboration
from accounts.roles import SALES_ROLES
from core.concurrency import StaleVersion, check_version

from . import opportunities, services
from .models import Contact, Customer, Lead, normalize_tax_id, possible_owners
from .permissions import can_create_lead, can_edit_contacts, can_edit_lead, can_reassign

__all__ = [
    "LeadAlreadyConverted",
    "Match",
    "StaleVersion",
    "convert_lead",
    "create_lead",
    "find_matches",
    "update_lead",
]

FIELDS = frozenset(
    {"name", "company", "email", "phone", "tax_id", "source", "status", "disqualified_reason", "owner", "notes"}
)

DISQUALIFIED_NEEDS_REASON = "Say why the lead is disqualified."
CONVERTED_IS_READ_ONLY = "This lead is converted: it is kept as it was. Change the customer or the deal instead."
ALREADY_CONVERTED = "This lead is converted already."
DISQUALIFIED_CANNOT_CONVERT = "A disqualified lead cannot be converted. Set it back to working or qualified first."
OWNER_NOT_IN_SALES = "The owner must be an active sales rep or sales manager."
ONLY_MANAGERS_REASSIGN = "Only sales managers give a lead to another rep."

# Mail providers whose domain says nothing about the company behind an address.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.de",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "t-online.de",
        "mail.com",
        "proton.me",
        "protonmail.com",
    }
)

# Legal forms ignored when comparing company names: "Acme GmbH" is "ACME".
LEGAL_SUFFIXES = ("gmbh & co. kg", "gmbh & co kg", "gmbh", "ag", "ltd", "inc", "llc", "sa", "sas", "bv", "kg", "plc")
_SUFFIX = re.compile(r"[\s,]+(?:" + "|".join(re.escape(s) for s in LEGAL_SUFFIXES) + r")\.?$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


class LeadAlreadyConverted(ValidationError):
    """The lead was converted before (by this request's twin, or long ago): pages say
    so, the API answers 409."""


def company_core(name: str) -> str:
    """A company name without its legal form, case or extra spaces:
    "Acme Industries GmbH" → "acme industries"."""
    core = _SPACES.sub(" ", (name or "").strip()).casefold()
    previous = None
    while core and core != previous:  # "Acme Holding AG, Inc." sheds both
        previous = core
        core = _SUFFIX.sub("", core).strip(" ,.")
    return core


def email_domain(email: str) -> str:
    """The company domain of an address; "" for a free-mail or malformed one."""
    _, at, domain = (email or "").strip().rpartition("@")
    domain = domain.casefold()
    if not at or not domain or domain in FREE_MAIL_DOMAINS:
        return ""
    return domain


# --- Create and change -----------------------------------------------------------------


def _refuse_unknown(data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})


def _check_owner(by, lead: Lead, data: dict[str, Any]) -> None:
    if "owner" not in data:
        return
    owner = data["owner"]
    owner_id = getattr(owner, "pk", owner)
    if owner_id == lead.owner_id:
        return
    if not can_reassign(by):
        raise PermissionDenied(ONLY_MANAGERS_REASSIGN)
    if owner is None or not possible_owners().filter(pk=owner_id).exists():
        raise ValidationError({"owner": OWNER_NOT_IN_SALES})


def _assign(lead: Lead, data: dict[str, Any]) -> None:
    for name, value in data.items():
        model_field = lead._meta.get_field(name)
        if model_field.is_relation and not isinstance(value, model_field.related_model):
            raise ValidationError({name: f"Choose a valid {model_field.verbose_name}."})
        if name == "tax_id":
            value = normalize_tax_id(value)
        elif isinstance(value, str) and name != "notes":
            value = value.strip()
        setattr(lead, name, value)
    if lead.status == Lead.Status.DISQUALIFIED:
        if not lead.disqualified_reason:
            raise ValidationError({"disqualified_reason": DISQUALIFIED_NEEDS_REASON})
    else:
        lead.disqualified_reason = ""  # a lead taken up again has no reason to be out


@transaction.atomic
def create_lead(*, by, data: dict[str, Any]) -> Lead:
    """A new lead, owned by `by` when they sell (a manager may name another owner;
    anyone else must name one)."""
    if not can_create_lead(by):
        raise PermissionDenied("You may not create leads.")
    data = dict(data)
    _refuse_unknown(data)
    lead = Lead(owner=by) if by.has_role(*SALES_ROLES) else Lead()
    if lead.owner_id is not None:
        _check_owner(by, lead, data)
    elif "owner" in data and not possible_owners().filter(pk=getattr(data["owner"], "pk", data["owner"])).exists():
        raise ValidationError({"owner": OWNER_NOT_IN_SALES})
    _assign(lead, data)
    if lead.owner_id is None:
        raise ValidationError({"owner": "Choose the sales rep who owns this lead."})
    lead.full_clean(validate_constraints=False)
    lead.save()
    collaboration.publish(lead, "lead.created", actor=by, data={"source": lead.get_source_display()})
    collaboration.follow(by, lead)
    collaboration.follow(lead.owner, lead)
    return lead


def _lock(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


@transaction.atomic
def update_lead(*, lead: Lead, by, data: dict[str, Any], expected_version: int | None = None) -> Lead:
    """Change a lead's details, its status (disqualified needs a reason) or, for
    managers, its owner. A converted lead is read-only."""
    lead = _lock(lead)
    if not can_edit_lead(by, lead):
        raise PermissionDenied("You may not change this lead.")
    check_version(lead, expected_version)
    if lead.is_converted:
        raise ValidationError(CONVERTED_IS_READ_ONLY)
    data = dict(data)
    _refuse_unknown(data)
    _check_owner(by, lead, data)
    was_disqualified = lead.status == Lead.Status.DISQUALIFIED
    with collaboration.tracking(lead, by=by):
        _assign(lead, data)
        lead.full_clean(validate_constraints=False)
        lead.version += 1
        lead.save()
    if lead.status == Lead.Status.DISQUALIFIED and not was_disqualified:
        collaboration.publish(lead, "lead.disqualified", actor=by, data={"reason": lead.disqualified_reason})
    if "owner" in data:
        collaboration.follow(lead.owner, lead)  # a new owner follows what they now own
    return lead


# --- Matching ----------------------------------------------------------------------------

TAX_ID, EMAIL_DOMAIN, NAME = "tax_id", "email_domain", "name"
REASON_LABELS = {TAX_ID: "tax ID", EMAIL_DOMAIN: "email domain", NAME: "name"}
MAX_MATCHES = 10  # per reason: a lead is one company, not a search


@dataclass
class Match:
    """An existing customer the lead may be, and why: `reasons` in order of strength
    (tax ID, email domain, name), with what matched in `details`."""

    customer: Customer
    reasons: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.reasons[0]

    @property
    def reason_labels(self) -> list[str]:
        return [REASON_LABELS[reason] for reason in self.reasons]


def find_matches(lead: Lead) -> list[Match]:
    """Customers that may be the lead's company, strongest reason first: the same tax
    ID (normalised), the same company email domain (the customer's email or one of its
    contacts'; free-mail domains prove nothing), the same name (ignoring case, or the
    legal form: "Acme" is "ACME GmbH")."""
    found: dict[int, Match] = {}

    def add(customers, reason: str, detail: str) -> None:
        for customer in customers[:MAX_MATCHES]:
            match = found.setdefault(customer.pk, Match(customer))
            if reason not in match.reasons:
                match.reasons.append(reason)
                match.details[reason] = detail

    customers = Customer.objects.select_related("owner").order_by("name", "id")
    tax_id = normalize_tax_id(lead.tax_id)
    if tax_id:
        add(customers.filter(tax_id=tax_id), TAX_ID, tax_id)
    domain = email_domain(lead.email)
    if domain:
        suffix = f"@{domain}"
        by_contact = Contact.objects.filter(email__iendswith=suffix).values("customer_id")
        add(customers.filter(Q(email__iendswith=suffix) | Q(pk__in=by_contact)), EMAIL_DOMAIN, domain)
    company = (lead.company or "").strip()
    core = company_core(company)
    if core:
        candidates = customers.filter(
            Q(name__iexact=company)
            | Q(legal_name__iexact=company)
            | Q(name__istartswith=core)
            | Q(legal_name__istartswith=core)
        )[: MAX_MATCHES * 5]
        same = [
            customer
            for customer in candidates
            if company.casefold() in (customer.name.casefold(), customer.legal_name.casefold())
            or core in (company_core(customer.name), company_core(customer.legal_name))
        ]
        add(same, NAME, company)
    order = {TAX_ID: 0, EMAIL_DOMAIN: 1, NAME: 2}
    for match in found.values():
        match.reasons.sort(key=order.__getitem__)
    return sorted(found.values(), key=lambda m: (order[m.reason], -len(m.reasons), m.customer.name, m.customer.pk))


# --- Conversion --------------------------------------------------------------------------


def customer_data_from(lead: Lead) -> dict[str, Any]:
    """What a new customer starts from: the lead's company (or the person's name),
    its phone and tax ID. The convert page prefills its form with it."""
    data = {"name": lead.company or lead.name, "phone": lead.phone, "status": Customer.Status.PROSPECT}
    if lead.tax_id:
        data["tax_id"] = lead.tax_id
    return data


def _contact_for(lead: Lead, customer: Customer, by) -> Contact | None:
    """The lead's person as a contact of `customer`: the one with the same email if
    there is one, a new one otherwise. None when the lead gives no way to reach the
    person, or `by` may not keep this customer's contacts (another rep's customer):
    the lead keeps the details, and its owner's feed says it was converted there."""
    if lead.email:
        existing = customer.contacts.filter(email__iexact=lead.email).first()
        if existing is not None:
            return existing
    if not (lead.email or lead.phone) or not can_edit_contacts(by, customer):
        return None
    return services.create_contact(
        customer=customer, by=by, data={"name": lead.name, "email": lead.email, "phone": lead.phone}
    )


def _opportunity_error(error: ValidationError) -> ValidationError:
    """A deal's field errors, named as the conversion's `opportunity` fields."""
    if hasattr(error, "error_dict"):
        return ValidationError(
            {"opportunity": [f"{name.replace('_', ' ')}: {m}" for name, ms in error.message_dict.items() for m in ms]}
        )
    return ValidationError({"opportunity": error.messages})


@transaction.atomic
def convert_lead(
    *,
    lead: Lead,
    by,
    customer: Customer | None = None,
    customer_data: dict[str, Any] | None = None,
    create_opportunity: bool = False,
    opportunity_data: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Lead:
    """Convert the lead, all or nothing: into `customer` (an existing one, typically a
    match the user confirmed) or a new customer made from `customer_data`; a contact
    for the person; and, with `create_opportunity`, a deal from `opportunity_data`
    (name, expected close date…). The lead becomes qualified and records what it became.

    Refused: a disqualified lead, a lead converted already (LeadAlreadyConverted,
    checked under the row lock, so two clicks convert once)."""
    lead = _lock(lead)
    if not can_edit_lead(by, lead):
        raise PermissionDenied("You may not convert this lead.")
    if lead.is_converted:
        raise LeadAlreadyConverted(ALREADY_CONVERTED)
    check_version(lead, expected_version)
    if lead.status == Lead.Status.DISQUALIFIED:
        raise ValidationError(DISQUALIFIED_CANNOT_CONVERT)
    if (customer is None) == (customer_data is None):
        raise ValidationError({"customer": "Choose an existing customer or describe a new one (not both)."})

    created_customer = customer is None
    if created_customer:
        data = dict(customer_data)
        if lead.owner_id != by.pk and can_reassign(by):
            data.setdefault("owner", lead.owner)  # as Salesforce: the lead's owner owns what it becomes
        customer = services.create_customer(by=by, data=data)  # its field errors name the customer's fields
    elif not isinstance(customer, Customer):
        raise ValidationError({"customer": "Choose a valid customer."})

    contact = _contact_for(lead, customer, by)

    opportunity = None
    if create_opportunity:
        data = dict(opportunity_data or {})
        data.setdefault("name", lead.company or lead.name)
        if lead.owner_id != by.pk and can_reassign(by):
            data.setdefault("owner", lead.owner)
        try:
            opportunity = opportunities.create_opportunity(by=by, customer=customer, data=data)
        except ValidationError as error:
            raise _opportunity_error(error) from None

    with collaboration.tracking(lead, by=by):
        lead.status = Lead.Status.QUALIFIED
        lead.disqualified_reason = ""
        lead.customer, lead.contact, lead.opportunity = customer, contact, opportunity
        lead.converted_at, lead.converted_by = timezone.now(), by
        lead.version += 1
        lead.save()
    facts = {"customer": customer.name, "new_customer": created_customer}
    if opportunity is not None:
        facts["opportunity"] = opportunity.name
    # On the lead's feed and the customer's (the deal's feed has its own "created").
    collaboration.publish(lead, "lead.converted", actor=by, data=facts, also_on=[customer])
    collaboration.follow(by, customer)
    collaboration.follow(lead.owner, customer)
    return lead
