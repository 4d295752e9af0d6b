"""Operations on service cases: log one on a customer, work it (status, severity,
owner), resolve and reopen it. Pages, the API and tests call these.

- Anyone with a role logs and works cases (crm.permissions.can_log_case / can_edit_case).
- A case's feed rolls up to its customer's (ServiceCase.feed_parents), so whoever
  follows the customer hears of it; a serious case (high, critical) also puts the
  customer's owner on the case, so they hear how it goes.
- Resolving or closing stamps `resolved_at`; reopening clears it. Receivables holds
  dunning while a serious case is open (ServiceCase.objects.serious()).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

import collaboration
from accounts.roles import ROLES
from core.concurrency import StaleVersion, check_version

from .models import Customer, Opportunity, ServiceCase
from .permissions import can_edit_case, can_log_case

__all__ = ["StaleVersion", "case_owner_choices", "log_case", "update_case"]

FIELDS = frozenset({"subject", "description", "severity", "status", "owner", "opportunity", "invoice_number"})
DEAL_OF_ANOTHER_CUSTOMER = "Choose a deal of this customer."
OWNER_NEEDS_ROLE = "Choose an active user with a role: they work the case."


def case_owner_choices():
    """Who may own a case: anyone active in a role (every role works cases)."""
    return get_user_model().objects.in_roles(*ROLES)


def _refuse_unknown(data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})


def _assign(case: ServiceCase, data: dict[str, Any]) -> None:
    for name, value in data.items():
        model_field = case._meta.get_field(name)
        if model_field.is_relation and value is not None and not isinstance(value, model_field.related_model):
            raise ValidationError({name: f"Choose a valid {model_field.verbose_name}."})
        if isinstance(value, str) and name != "description":
            value = value.strip()
        setattr(case, name, value)


def _check(case: ServiceCase, data: dict[str, Any]) -> None:
    if "owner" in data:
        owner = data["owner"]
        if owner is None or not case_owner_choices().filter(pk=owner.pk).exists():
            raise ValidationError({"owner": OWNER_NEEDS_ROLE})
    opportunity = data.get("opportunity")
    if isinstance(opportunity, Opportunity) and opportunity.customer_id != case.customer_id:
        raise ValidationError({"opportunity": DEAL_OF_ANOTHER_CUSTOMER})


def _stamp_resolution(case: ServiceCase) -> None:
    if case.status in ServiceCase.CLOSED_STATUSES:
        case.resolved_at = case.resolved_at or timezone.now()
    else:
        case.resolved_at = None


def _facts(case: ServiceCase) -> dict[str, str]:
    return {"subject": case.subject, "severity": case.get_severity_display()}


def _tell_the_customers_owner(case: ServiceCase) -> None:
    """A serious case concerns whoever owns the relationship: they follow it."""
    if case.severity in ServiceCase.SERIOUS_SEVERITIES:
        collaboration.follow(case.customer.owner, case)


@transaction.atomic
def log_case(*, by, customer: Customer, data: dict[str, Any]) -> ServiceCase:
    """A new case on `customer`, owned by `by` unless they name someone; the related
    deal, if any, is one of this customer's."""
    if not can_log_case(by):
        raise PermissionDenied("You may not log service cases.")
    data = dict(data)
    _refuse_unknown(data)
    case = ServiceCase(customer=customer, owner=by, created_by=by)
    _check(case, data)
    _assign(case, data)
    _stamp_resolution(case)
    case.full_clean(exclude=["created_by"], validate_constraints=False)
    case.save()
    # Follow first, so the opening reaches their My feed with everyone else's.
    collaboration.follow(by, case)
    collaboration.follow(case.owner, case)
    _tell_the_customers_owner(case)
    collaboration.publish(case, "case.opened", actor=by, data=_facts(case))
    return case


@transaction.atomic
def update_case(*, case: ServiceCase, by, data: dict[str, Any], expected_version: int | None = None) -> ServiceCase:
    """Work a case: its details, severity, owner and status. Resolving or closing it
    stamps when; reopening clears that."""
    case = ServiceCase.objects.select_for_update().select_related("customer__owner").get(pk=case.pk)
    if not can_edit_case(by, case):
        raise PermissionDenied("You may not change this case.")
    check_version(case, expected_version)
    data = dict(data)
    if "customer" in data:
        moved_to = data.pop("customer")
        if getattr(moved_to, "pk", moved_to) != case.customer_id:
            raise ValidationError({"customer": "A case stays with its customer; log a new one for the other."})
    _refuse_unknown(data)
    _check(case, data)
    was_open, was_serious = case.is_open, case.severity in ServiceCase.SERIOUS_SEVERITIES
    with collaboration.tracking(case, by=by):
        _assign(case, data)
        _stamp_resolution(case)
        case.full_clean(exclude=["created_by"], validate_constraints=False)
        case.version += 1
        case.save()
    if "owner" in data:
        collaboration.follow(case.owner, case)
    if not was_serious:
        _tell_the_customers_owner(case)
    if was_open and not case.is_open:
        collaboration.publish(case, "case.resolved", actor=by, data=_facts(case))
    elif case.is_open and not was_open:
        collaboration.publish(case, "case.reopened", actor=by, data=_facts(case))
    return case
