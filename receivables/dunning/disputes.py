"""Disputes: a customer contests an invoice; it is not dunned until they are resolved."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

import collaboration
from billing.models import CreditNote, Invoice
from core.money import format_amount

from ..models import Dispute
from ..permissions import can_open_dispute, can_resolve_disputes
from .base import DunningConflict, parse_amount


@transaction.atomic
def open_dispute(*, invoice: Invoice, by, amount, reason: str) -> Dispute:
    """The customer contests `amount` of an open invoice (a rep on their own customer's, or
    finance): the invoice is not dunned until the dispute is resolved."""
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("customer").get(pk=invoice.pk)
    if not can_open_dispute(by, invoice.customer):
        raise PermissionDenied("You may not open a dispute on this customer's invoice.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say what the customer disputes."})
    amount = parse_amount(amount)
    if invoice.status not in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID):
        raise DunningConflict(f"Invoice {invoice.number or 'draft'} has nothing left to dispute.", code="not_open")
    if amount > invoice.balance_due:
        raise ValidationError(
            {
                "amount": f"Invoice {invoice.number} has {format_amount(invoice.balance_due)} {invoice.currency} "
                f"left to pay: a dispute cannot be larger than that."
            }
        )
    dispute = Dispute(invoice=invoice, amount=amount, reason=reason[:300], opened_by=by)
    try:
        with transaction.atomic():
            dispute.save()
    except IntegrityError:
        raise DunningConflict(f"Invoice {invoice.number} has an open dispute already.", code="disputed") from None
    collaboration.publish(
        dispute,
        "dispute.opened",
        actor=by,
        data={"number": invoice.number, "amount": amount, "currency": invoice.currency, "reason": dispute.reason},
    )
    return dispute


RESOLUTIONS = {
    "credit": Dispute.Status.RESOLVED_CREDIT,
    "partial": Dispute.Status.RESOLVED_PARTIAL,
    "rejected": Dispute.Status.REJECTED,
}


@transaction.atomic
def resolve_dispute(
    *, dispute: Dispute, by, outcome: str, note: str = "", credit_note: CreditNote | None = None
) -> Dispute:
    """End a dispute (finance): by a credit note in full or in part (made through billing,
    on the same invoice), or rejected with a note. Dunning of the invoice resumes."""
    if not can_resolve_disputes(by):
        raise PermissionDenied("Only finance resolves disputes.")
    if outcome not in RESOLUTIONS:
        raise ValidationError({"outcome": "Choose credit, partial or rejected."})
    dispute = Dispute.objects.select_for_update().select_related("invoice").get(pk=dispute.pk)
    if dispute.status != Dispute.Status.OPEN:
        raise DunningConflict("This dispute was resolved already.", code="resolved")
    note = (note or "").strip()
    if outcome == "rejected":
        if not note:
            raise ValidationError({"note": "Say why the dispute is rejected."})
        credit_note = None
    else:
        if credit_note is None:
            raise ValidationError({"credit_note": "Choose the credit note that resolves the dispute."})
        if credit_note.invoice_id != dispute.invoice_id:
            raise ValidationError({"credit_note": f"That credit note is not on invoice {dispute.invoice.number}."})
    dispute.status = RESOLUTIONS[outcome]
    dispute.resolution_note = note[:300]
    dispute.credit_note = credit_note
    dispute.resolved_by = by
    dispute.resolved_at = timezone.now()
    dispute.save(update_fields=["status", "resolution_note", "credit_note", "resolved_by", "resolved_at"])
    collaboration.publish(
        dispute,
        "dispute.resolved",
        actor=by,
        data={
            "number": dispute.invoice.number,
            "outcome": dispute.get_status_display().lower(),
            "credit_note": credit_note.number if credit_note else "",
            "note": dispute.resolution_note,
        },
    )
    return dispute
