"""Why reminders wait: holds read live for many customers at once, and manual dunning holds."""

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import collaboration
from billing.models import Invoice
from core.money import format_amount
from core.precompiled import Precompiled
from crm.models import Customer, Opportunity, ServiceCase

from ..models import Dispute, DunningHold, PaymentPromise
from ..permissions import can_set_dunning_holds
from .base import DunningConflict, customer_ids_of, on_invoice


@dataclass
class Holds:
    """Why a customer, or some of its invoices, must not be reminded now: (kind, text)
    pairs; kind is one of deal, service_case, dispute, promise, manual_hold."""

    customer: list[tuple[str, str]] = field(default_factory=list)
    invoices: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def for_invoice(self, invoice_id: int) -> list[tuple[str, str]]:
        return self.customer + self.invoices.get(invoice_id, [])


def hold_thresholds() -> tuple[int, Decimal]:
    conf = settings.RECEIVABLES
    return int(conf.get("DUNNING_HOLD_PROBABILITY", 75)), Decimal(str(conf.get("DUNNING_HOLD_AMOUNT", "50000")))


@functools.lru_cache(maxsize=8)
def _hold_reads(as_of: date, conf: str) -> tuple[Precompiled, ...]:
    """The five reads of holds_for on `as_of`, compiled once per day (and settings, `conf`)
    in each process and picked by customer id each time: building and compiling five
    queries cost more than the database took to answer them (core.precompiled)."""
    probability, amount = hold_thresholds()
    deals = Opportunity.objects.open().filter(Q(stage__probability__gte=probability) | Q(amount__gte=amount))
    return (
        Precompiled(
            deals.values("customer_id", "name", "stage__name", "stage__probability", "amount", "currency"),
            key="customer_id",
        ),
        Precompiled(
            ServiceCase.objects.serious().values("customer_id", "subject", "severity", "invoice_number"),
            key="customer_id",
        ),
        Precompiled(
            Dispute.objects.open().values("invoice_id", "invoice__customer_id", "invoice__number", "amount", "reason"),
            key="invoice__customer_id",
        ),
        Precompiled(
            PaymentPromise.objects.active()
            .filter(promised_for__gte=as_of)
            .values("customer_id", "invoice_id", "invoice__number", "amount", "currency", "promised_for"),
            key="customer_id",
        ),
        Precompiled(
            DunningHold.objects.active(as_of).values("customer_id", "invoice_id", "invoice__number", "reason", "until"),
            key="customer_id",
        ),
    )


def holds_for(customers: Iterable | None, as_of: date) -> dict[int, Holds]:
    """Per customer id (only those held), the reasons to hold back its reminders on
    `as_of`, read live from the records (no nightly sync): five queries for any number
    of customers (None: all)."""
    ids = customer_ids_of(customers)
    held: dict[int, Holds] = defaultdict(Holds)
    deals, cases, disputes, promises, manual = _hold_reads(as_of, repr(settings.RECEIVABLES))
    for deal in deals.rows(ids):
        held[deal["customer_id"]].customer.append(
            (
                "deal",
                f"the deal “{deal['name']}” is in {deal['stage__name']} ({deal['stage__probability']}%, "
                f"{format_amount(deal['amount'])} {deal['currency']})",
            )
        )
    for case in cases.rows(ids):
        about = f" about invoice {case['invoice_number']}" if case["invoice_number"] else ""
        held[case["customer_id"]].customer.append(
            ("service_case", f"a {case['severity']} service case is open{about}: “{case['subject']}”")
        )
    for dispute in disputes.rows(ids):
        held[dispute["invoice__customer_id"]].invoices[dispute["invoice_id"]].append(
            (
                "dispute",
                f"invoice {dispute['invoice__number']} is disputed ({format_amount(dispute['amount'])}): "
                f"{dispute['reason']}",
            )
        )
    for promise in promises.rows(ids):
        on = f" on invoice {promise['invoice__number']}" if promise["invoice_id"] else ""
        reason = (
            "promise",
            f"{format_amount(promise['amount'])} {promise['currency']} promised{on} by {promise['promised_for']:%Y-%m-%d}",
        )
        _place(held[promise["customer_id"]], promise["invoice_id"], reason)
    for hold in manual.rows(ids):
        on = f" invoice {hold['invoice__number']}" if hold["invoice_id"] else ""
        until = f" until {hold['until']:%Y-%m-%d}" if hold["until"] else ""
        _place(held[hold["customer_id"]], hold["invoice_id"], ("manual_hold", f"held{on}{until}: {hold['reason']}"))
    return dict(held)


def _place(holds: Holds, invoice_id: int | None, reason: tuple[str, str]) -> None:
    if invoice_id is None:
        holds.customer.append(reason)
    else:
        holds.invoices[invoice_id].append(reason)


@transaction.atomic
def set_dunning_hold(
    *, customer: Customer, by, reason: str, until: date | None = None, invoice: Invoice | None = None, on=None
) -> DunningHold:
    """Stop reminders to `customer` (or about one of its invoices), with a reason, until
    `until` (inclusive) or until released. Clerks; takes effect at once."""
    if not can_set_dunning_holds(by):
        raise PermissionDenied("Only finance sets dunning holds.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why reminders are held."})
    on = on or timezone.localdate()
    if until is not None and until < on:
        raise ValidationError({"until": "The hold would be over already: choose today or a later day."})
    if invoice is not None and invoice.customer_id != customer.pk:
        raise ValidationError({"invoice": f"Invoice {invoice.number} is another customer's."})
    hold = DunningHold.objects.create(customer=customer, invoice=invoice, reason=reason[:200], until=until, set_by=by)
    collaboration.publish(
        hold,
        "dunning_hold.set",
        actor=by,
        data={
            "reason": hold.reason,
            "until": until.isoformat() if until else "released",
            "invoice": on_invoice(invoice),
        },
        also_on=[invoice] if invoice is not None else (),
    )
    return hold


@transaction.atomic
def release_dunning_hold(*, hold: DunningHold, by) -> DunningHold:
    """Lift a dunning hold; reminders resume with the next run. The record stays."""
    if not can_set_dunning_holds(by):
        raise PermissionDenied("Only finance releases dunning holds.")
    hold = DunningHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise DunningConflict("This dunning hold was released already.", code="released")
    hold.released_at = timezone.now()
    hold.released_by = by
    hold.save(update_fields=["released_at", "released_by"])
    collaboration.publish(hold, "dunning_hold.released", actor=by, data={"reason": hold.reason})
    return hold
