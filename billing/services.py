"""Operations on invoices and credit notes. Pages, the API, the billing run, the demo
and tests call these; nothing writes an Invoice, its lines or a CreditNote another way.

- A draft has no number; its lines are priced like a deal's (crm.opportunities.build_line:
  rounded half-up per line) and its totals are kept here.
- issue_invoice checks everything first and takes the next number of its series and
  year last (core.numbering: a locked counter row in the same transaction), so a
  refused or rolled-back issue consumes no number and numbers have no gaps.
- An issued invoice never changes: corrections are credit notes (never more than the
  balance due), and void is for an invoice nothing was paid or credited on.
- The balance due is total − credited − paid, kept by settle() in the transaction that
  changes one of them (receivables calls it for payments).
"""

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

import collaboration
from core import documents
from core.concurrency import StaleVersion, check_version
from core.money import line_amount, round_money, tax_amount
from core.numbering import next_number
from crm.models import BILLING_DETAILS_REQUIRED, Customer, Opportunity, due_date
from crm.opportunities import build_lines

from .models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from .permissions import (
    can_create_invoice,
    can_credit,
    can_edit_draft,
    can_invoice_deal,
    can_issue,
    can_send,
    can_void,
)

__all__ = [
    "InvoiceConflict",
    "StaleVersion",
    "create_invoice",
    "credit_invoice",
    "invoice_opportunity",
    "invoiced_net",
    "issue_invoice",
    "register_issue_check",
    "register_ledger_hook",
    "send_invoice",
    "set_invoice_lines",
    "settle",
    "update_draft",
    "void_invoice",
]

INVOICE_DOCUMENT = "billing.invoice"
CREDIT_NOTE_DOCUMENT = "billing.credit_note"
INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
DRAFT_FIELDS = frozenset({"notes", "payment_terms", "payment_days"})
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


class InvoiceConflict(ValidationError):
    """The invoice is not in a state that allows this (issued already, paid, void…):
    a message on pages, a 409 in the API."""


# Checks other apps add before an invoice may be issued (receivables: a customer on
# credit hold needs an approval). Each is called as check(invoice, by=user, on=day) —
# `on` None today, a past day when history is recorded (the demo) — and raises
# ValidationError or PermissionDenied to refuse; billing never imports them.
ISSUE_CHECKS: list = []


def register_issue_check(check) -> None:
    if check not in ISSUE_CHECKS:
        ISSUE_CHECKS.append(check)


# Called as hook(invoice) in the transaction that issued, credited or voided an invoice
# (receivables refreshes the customer's payment behaviour); billing never imports them.
LEDGER_HOOKS: list = []


def register_ledger_hook(hook) -> None:
    if hook not in LEDGER_HOOKS:
        LEDGER_HOOKS.append(hook)


def _ledger_changed(invoice: Invoice) -> None:
    for hook in LEDGER_HOOKS:
        hook(invoice)


def _lock(invoice: Invoice) -> Invoice:
    # Only the invoice's row: PostgreSQL locks no nullable side of an outer join (opportunity).
    return Invoice.objects.select_for_update(of=("self",)).select_related("customer", "opportunity").get(pk=invoice.pk)


def _refuse_unknown(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})


def _assign_draft(invoice: Invoice, data: dict[str, Any]) -> None:
    _refuse_unknown(data, DRAFT_FIELDS)
    for name, value in data.items():
        setattr(invoice, name, value)
    invoice.full_clean(
        exclude=[f.name for f in Invoice._meta.fields if f.name not in DRAFT_FIELDS], validate_constraints=False
    )


def _tax_of(line) -> None:
    """Copy the line's tax as it is today (name, percent) and price it, per line."""
    rate = line.tax_rate
    line.tax_name = rate.name if rate else ""
    line.tax_percent = rate.percentage if rate else Decimal("0")
    line.tax_amount = tax_amount(line.amount, line.tax_percent)


def settle(invoice: Invoice) -> None:
    """Recompute the balance due and the status from total, credited and paid (in the
    caller's transaction, on a locked invoice; the caller saves)."""
    invoice.balance_due = invoice.total - invoice.amount_credited - invoice.amount_paid
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        return
    if invoice.balance_due == 0:
        invoice.status = Invoice.Status.PAID
    elif invoice.amount_paid > 0:
        invoice.status = Invoice.Status.PARTIALLY_PAID
    else:
        invoice.status = Invoice.Status.ISSUED


def _set_totals(invoice: Invoice) -> None:
    lines = invoice.lines.aggregate(subtotal=Sum("amount"), tax=Sum("tax_amount"))
    # Rounded: SQLite sums decimals as floats (PostgreSQL's sum is exact already).
    invoice.subtotal = round_money(lines["subtotal"] or ZERO)
    invoice.tax_total = round_money(lines["tax"] or ZERO)
    invoice.total = invoice.subtotal + invoice.tax_total
    settle(invoice)


def _save_lines(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    invoice.lines.all().delete()
    for position, line in enumerate(lines):
        line.invoice = invoice
        line.position = position
        _tax_of(line)
    InvoiceLine.objects.bulk_create(lines)
    _set_totals(invoice)


def _new_invoice(customer: Customer, by, **fields) -> Invoice:
    return Invoice(
        customer=customer,
        currency=customer.currency,
        payment_terms=customer.payment_terms,
        payment_days=customer.payment_days,
        created_by=by,
        **fields,
    )


# --- Drafts --------------------------------------------------------------------------


@transaction.atomic
def create_invoice(
    *, by, customer: Customer, data: dict[str, Any] | None = None, lines: list[dict[str, Any]] | None = None
) -> Invoice:
    """A draft invoice for `customer`, on its currency and terms unless `data` gives
    other terms, with `lines` priced like a deal's."""
    if not can_create_invoice(by):
        raise PermissionDenied("Only finance creates invoices.")
    invoice = _new_invoice(customer, by)
    _assign_draft(invoice, dict(data or {}))
    built = build_lines(list(lines or []), currency=invoice.currency, model=InvoiceLine, what="An invoice")
    invoice.save()
    _save_lines(invoice, built)
    invoice.save()
    return invoice


def _editable(invoice: Invoice, by, expected_version: int | None) -> Invoice:
    invoice = _lock(invoice)
    if not invoice.is_draft:
        raise InvoiceConflict(
            f"Invoice {invoice.number} is issued and cannot change: correct it with a credit note.", code="issued"
        )
    if not can_edit_draft(by, invoice):
        raise PermissionDenied("Only finance edits draft invoices.")
    check_version(invoice, expected_version)
    return invoice


@transaction.atomic
def update_draft(*, invoice: Invoice, by, data: dict[str, Any], expected_version: int | None = None) -> Invoice:
    """Change a draft's terms or notes."""
    invoice = _editable(invoice, by, expected_version)
    _assign_draft(invoice, data)
    invoice.version += 1
    invoice.save()
    return invoice


@transaction.atomic
def set_invoice_lines(
    *, invoice: Invoice, by, lines: list[dict[str, Any]], expected_version: int | None = None
) -> Invoice:
    """Replace a draft's lines (all valid or none saved) and recompute its totals."""
    invoice = _editable(invoice, by, expected_version)
    built = build_lines(lines, currency=invoice.currency, model=InvoiceLine, what="An invoice")
    _save_lines(invoice, built)
    invoice.version += 1
    invoice.save()
    return invoice


# --- From a won deal -----------------------------------------------------------------


def invoiced_net(opportunity: Opportunity) -> Decimal:
    """How much of the deal's (net) amount is invoiced: its invoices that are not void,
    less what was credited on them."""
    invoices = Invoice.objects.filter(opportunity=opportunity).exclude(status=Invoice.Status.VOID)
    billed = invoices.aggregate(total=Sum("subtotal"))["total"] or ZERO
    credited = CreditNote.objects.filter(invoice__in=invoices).aggregate(total=Sum("subtotal"))["total"] or ZERO
    return round_money(billed - credited)  # SQLite sums decimals as floats


def _share_lines(deal_lines, target: Decimal, amount: Decimal, label: str) -> list[InvoiceLine]:
    """The deal's lines scaled to `target` of its `amount`, one invoice line each, the
    last one taking the cents that rounding each share leaves over."""
    lines, given = [], ZERO
    for index, line in enumerate(deal_lines):
        last = index == len(deal_lines) - 1
        share = target - given if last else round_money(line.amount * target / amount)
        given += share
        if share <= 0:
            continue
        lines.append(
            InvoiceLine(
                product=line.product,
                description=f"{line.description} ({label})"[:300],
                quantity=Decimal("1"),
                unit_price=share,
                discount_percent=Decimal("0"),
                amount=share,
                tax_rate=line.tax_rate,
            )
        )
    return lines


@transaction.atomic
def invoice_opportunity(
    *, opportunity: Opportunity, by, percent: Decimal | str | None = None, remaining: bool = False
) -> Invoice:
    """ "Invoice this deal": a draft invoice of a won deal, linked both ways, with the
    deal's lines, prices, discounts and payment terms carried over unchanged.

    `percent` invoices that share of the deal (a 30 % deposit: each line's share);
    `remaining` what is left after earlier invoices. Invoicing more than the deal's
    amount is refused."""
    opportunity = Opportunity.objects.select_for_update().select_related("stage", "customer").get(pk=opportunity.pk)
    if not can_invoice_deal(by, opportunity):
        raise PermissionDenied("Only finance, or the deal's owner, invoices a deal.")
    if not opportunity.stage.is_won:
        raise InvoiceConflict("Only a won deal is invoiced: win it first.", code="not_won")
    deal_lines = list(opportunity.lines.select_related("product", "tax_rate"))
    if not deal_lines or opportunity.amount <= 0:
        raise InvoiceConflict("This deal has nothing to invoice: its amount is 0.", code="empty")
    already = invoiced_net(opportunity)
    left = opportunity.amount - already
    if left <= 0:
        raise InvoiceConflict(
            f"This deal is invoiced in full ({already} of {opportunity.amount} {opportunity.currency}).",
            code="invoiced",
        )
    if percent not in (None, ""):
        try:
            share = Decimal(str(percent))
        except ArithmeticError:
            raise ValidationError({"percent": "Enter a percentage between 0 and 100."}) from None
        if not share.is_finite() or not (0 < share <= 100):
            raise ValidationError({"percent": "Enter a percentage between 0 and 100."})
        target = round_money(opportunity.amount * share / HUNDRED)
        if target > left:
            raise ValidationError(
                {
                    "percent": f"{share.normalize():f} % of the deal is {target} {opportunity.currency}, "
                    f"more than the {left} left to invoice."
                }
            )
        lines = _share_lines(deal_lines, target, opportunity.amount, f"{share.normalize():f} % of the deal")
    elif remaining or already > 0:
        lines = _share_lines(deal_lines, left, opportunity.amount, "remaining balance")
        if already == 0:  # nothing invoiced yet: the remaining balance is the whole deal, line for line
            lines = None
    else:
        lines = None
    if lines is None:
        lines = [
            InvoiceLine(
                product=line.product,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                amount=line.amount,
                tax_rate=line.tax_rate,
            )
            for line in deal_lines
        ]
    invoice = Invoice(
        customer=opportunity.customer,
        currency=opportunity.currency,
        payment_terms=opportunity.payment_terms,
        payment_days=opportunity.payment_days,
        opportunity=opportunity,
        created_by=by,
    )
    invoice.save()
    _save_lines(invoice, lines)
    invoice.save()
    collaboration.publish(
        invoice,
        "invoice.drafted",
        actor=by,
        data={"deal": opportunity.name, "total": invoice.total, "currency": invoice.currency},
        also_on=[opportunity],
    )
    return invoice


# --- Issuing -------------------------------------------------------------------------


def _missing_billing_details(customer: Customer) -> list[str]:
    return [
        str(Customer._meta.get_field(name).verbose_name)
        for name in BILLING_DETAILS_REQUIRED
        if not getattr(customer, name)
    ]


def _facts(invoice: Invoice) -> dict[str, Any]:
    return {"number": invoice.number, "total": invoice.total, "currency": invoice.currency}


@transaction.atomic
def issue_invoice(
    *, invoice: Invoice, by, on=None, expected_version: int | None = None, render: bool = True
) -> Invoice:
    """Issue a draft: it gets the next INV-<year>-<seq> number, its due date from its
    payment terms, the customer's billing details and the taxes as they are today, and
    never changes again. Its PDF is queued (unless `render=False`: the demo's history,
    rendered when first asked for); the feed says so."""
    if not can_issue(by):
        raise PermissionDenied("Only finance issues invoices.")
    invoice = _lock(invoice)
    if not invoice.is_draft:
        raise InvoiceConflict(f"Invoice {invoice.number} is issued already.", code="issued")
    check_version(invoice, expected_version)
    lines = list(invoice.lines.select_related("tax_rate"))
    if not lines:
        raise ValidationError("Add at least one line before issuing the invoice.")
    customer = Customer.objects.get(pk=invoice.customer_id)
    missing = _missing_billing_details(customer)
    if missing:
        raise ValidationError(
            f"{customer.name} cannot be invoiced yet: add its {', '.join(missing)} on the customer first."
        )
    for check in ISSUE_CHECKS:
        check(invoice, by=by, on=on)
    for line in lines:
        _tax_of(line)
    InvoiceLine.objects.bulk_update(lines, ["tax_name", "tax_percent", "tax_amount"])
    _set_totals(invoice)
    if invoice.total <= 0:
        raise ValidationError("An invoice's total must be more than 0.")
    issued_on = on or timezone.localdate()
    invoice.issue_date = issued_on
    invoice.due_date = due_date(invoice.payment_terms, invoice.payment_days, issued_on)
    invoice.billing_name = customer.billing_name
    invoice.billing_address = "\n".join(customer.billing_address_lines)
    invoice.billing_tax_id = customer.tax_id
    invoice.status = Invoice.Status.ISSUED
    invoice.issued_by = by
    invoice.version += 1
    # Last, once nothing can refuse: the number is the counter's, held until commit.
    invoice.number = next_number(INVOICE_SERIES, issued_on.year)
    invoice.save()
    also = [invoice.opportunity] if invoice.opportunity_id else []
    collaboration.publish(
        invoice, "invoice.issued", actor=by, data={**_facts(invoice), "due": str(invoice.due_date)}, also_on=also
    )
    if render:
        documents.request_document(invoice, INVOICE_DOCUMENT)
    _ledger_changed(invoice)
    return invoice


@transaction.atomic
def void_invoice(*, invoice: Invoice, by, reason: str) -> Invoice:
    """Void an issued invoice nothing was paid or credited on; it keeps its number."""
    if not can_void(by):
        raise PermissionDenied("Only finance managers void invoices.")
    invoice = _lock(invoice)
    if invoice.status == Invoice.Status.DRAFT:
        raise InvoiceConflict("A draft has no number to void: delete its lines or leave it.", code="draft")
    if invoice.status == Invoice.Status.VOID:
        raise InvoiceConflict(f"Invoice {invoice.number} is void already.", code="void")
    if invoice.amount_paid > 0:
        raise InvoiceConflict(
            f"Invoice {invoice.number} has payments: it cannot be voided; credit it instead.", code="paid"
        )
    if invoice.amount_credited > 0:
        raise InvoiceConflict(
            f"Invoice {invoice.number} has credit notes: credit the rest instead of voiding it.", code="credited"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the invoice is void."})
    invoice.status = Invoice.Status.VOID
    invoice.voided_at = timezone.now()
    invoice.void_reason = reason[:200]
    invoice.version += 1
    invoice.save()
    collaboration.publish(invoice, "invoice.voided", actor=by, data={**_facts(invoice), "reason": invoice.void_reason})
    _ledger_changed(invoice)
    return invoice


# --- Credit notes --------------------------------------------------------------------


def _credited(invoice: Invoice) -> dict[int, dict[str, Decimal]]:
    """Per invoice line: the quantity, net amount and tax credited so far."""
    rows = (
        CreditNoteLine.objects.filter(credit_note__invoice=invoice, invoice_line__isnull=False)
        .values("invoice_line")
        .annotate(quantity=Sum("quantity"), amount=Sum("amount"), tax=Sum("tax_amount"))
    )
    return {row["invoice_line"]: row for row in rows}


def _credit_lines(invoice: Invoice, lines: list[dict[str, Any]] | None) -> list[CreditNoteLine]:
    """Credit-note lines for `lines` ([{"invoice_line": id, "quantity": q}]), or for
    everything not credited yet when None."""
    invoice_lines = {line.pk: line for line in invoice.lines.all()}
    credited = _credited(invoice)
    nothing = {"quantity": Decimal("0"), "amount": ZERO, "tax": ZERO}
    if lines is None:
        wanted = [
            {"invoice_line": pk, "quantity": line.quantity - credited.get(pk, nothing)["quantity"]}
            for pk, line in invoice_lines.items()
        ]
        wanted = [item for item in wanted if item["quantity"] > 0]
    else:
        if not isinstance(lines, list) or not lines:
            raise ValidationError({"lines": "Choose the lines (and quantities) to credit."})
        wanted = lines
    built, errors = [], []
    for index, item in enumerate(wanted, start=1):
        try:
            line = invoice_lines[int(item["invoice_line"])]
            quantity = Decimal(str(item["quantity"]))
        except (KeyError, TypeError, ValueError, ArithmeticError):
            errors.append(f"Line {index}: choose a line of this invoice and a quantity.")
            continue
        before = credited.get(line.pk, nothing)
        left = line.quantity - before["quantity"]
        if not quantity.is_finite() or quantity <= 0:
            errors.append(f"Line {index}: the quantity must be more than 0.")
            continue
        if quantity > left:
            errors.append(f"Line {index}: at most {left.normalize():f} of “{line.description}” is left to credit.")
            continue
        if quantity == left:  # the rest of the line: exactly what is left of its amount and tax
            amount = round_money(line.amount - before["amount"])
            tax = round_money(line.tax_amount - before["tax"])
        else:
            amount = line_amount(quantity, line.unit_price, line.discount_percent)
            tax = tax_amount(amount, line.tax_percent)
        built.append(
            CreditNoteLine(
                position=index,
                invoice_line=line,
                product=line.product_id and line.product,
                description=line.description,
                quantity=quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                amount=amount,
                tax_name=line.tax_name,
                tax_percent=line.tax_percent,
                tax_amount=tax,
            )
        )
    if errors:
        raise ValidationError({"lines": errors})
    if not built:
        raise InvoiceConflict("Everything on this invoice is credited already.", code="credited")
    return built


@transaction.atomic
def credit_invoice(
    *, invoice: Invoice, by, reason: str, lines: list[dict[str, Any]] | None = None, on=None
) -> CreditNote:
    """A credit note against an issued invoice: for `lines` ([{"invoice_line": id,
    "quantity": q}]) or, without, everything not credited yet. Never more than the
    invoice's balance due, which it reduces; numbered CN-<year>-<seq>; its PDF queued."""
    if not can_credit(by):
        raise PermissionDenied("Only finance credits invoices.")
    invoice = _lock(invoice)
    if invoice.status not in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID):
        state = "a draft" if invoice.is_draft else invoice.get_status_display().lower()
        raise InvoiceConflict(f"Only an issued invoice with a balance due is credited; this one is {state}.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the invoice is credited."})
    built = _credit_lines(invoice, lines)
    subtotal = sum((line.amount for line in built), ZERO)
    tax = sum((line.tax_amount for line in built), ZERO)
    total = subtotal + tax
    if total > invoice.balance_due:
        raise ValidationError(
            f"A credit note of {total} {invoice.currency} would exceed the invoice's balance due "
            f"({invoice.balance_due} {invoice.currency})."
        )
    issued_on = on or timezone.localdate()
    note = CreditNote(
        invoice=invoice,
        customer_id=invoice.customer_id,
        issue_date=issued_on,
        currency=invoice.currency,
        reason=reason[:300],
        subtotal=subtotal,
        tax_total=tax,
        total=total,
        created_by=by,
        number=next_number(CREDIT_NOTE_SERIES, issued_on.year),
    )
    note.save()
    for line in built:
        line.credit_note = note
    CreditNoteLine.objects.bulk_create(built)
    invoice.amount_credited += total
    settle(invoice)
    invoice.version += 1
    invoice.save()
    collaboration.publish(
        note,
        "credit_note.issued",
        actor=by,
        data={
            "number": note.number,
            "invoice": invoice.number,
            "total": total,
            "currency": note.currency,
            "reason": note.reason,
        },
    )
    documents.request_document(note, CREDIT_NOTE_DOCUMENT)
    _ledger_changed(invoice)
    return note


# --- Sending -------------------------------------------------------------------------


def default_recipient(invoice: Invoice) -> str:
    """Where invoices go: the customer's invoice address, else its primary contact's."""
    customer = invoice.customer
    if customer.email:
        return customer.email
    primary = customer.contacts.filter(is_primary=True).exclude(email="").first()
    return primary.email if primary else ""


@transaction.atomic
def send_invoice(*, invoice: Invoice, by, to: str = "", resend: bool = False) -> Invoice:
    """Email the issued invoice's PDF (made once, reused) to `to` or the customer's
    billing address, after the transaction commits; records when and to whom, and the
    feed says so. A sent invoice is sent again only with `resend=True`."""
    if not can_send(by):
        raise PermissionDenied("Only finance sends invoices.")
    invoice = _lock(invoice)
    if invoice.is_draft or invoice.status == Invoice.Status.VOID:
        raise InvoiceConflict("Only an issued invoice is sent: issue it first.", code="not_issued")
    if invoice.sent_at and not resend:
        raise InvoiceConflict(
            f"Invoice {invoice.number} was sent to {invoice.sent_to} already. Confirm to send it again.", code="sent"
        )
    address = (to or "").strip() or default_recipient(invoice)
    if not address:
        raise ValidationError({"to": "The customer has no invoice email address: enter one."})
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"to": "Enter a valid email address."}) from None
    invoice.sent_at = timezone.now()
    invoice.sent_to = address
    invoice.save(update_fields=["sent_at", "sent_to", "updated_at"])
    document = documents.request_document(invoice, INVOICE_DOCUMENT)
    if document.is_failed:
        documents.retry_document(document)
    key = f"{INVOICE_DOCUMENT}:{invoice.pk}:{uuid.uuid4().hex}"
    from .tasks import send_invoice_email  # the task module imports this one

    transaction.on_commit(lambda: send_invoice_email.delay(invoice.pk, address, key), robust=True)
    collaboration.publish(invoice, "invoice.sent", actor=by, data={**_facts(invoice), "to": address})
    return invoice


def email_invoice(*, invoice_id: int, to: str, key: str) -> bool:
    """Email the invoice's stored PDF to `to`, once for `key` (send_invoice's task)."""
    from django.conf import settings

    invoice = Invoice.objects.select_related("customer", "issued_by").get(pk=invoice_id)
    return documents.email_document(
        invoice,
        INVOICE_DOCUMENT,
        key=key,
        to=to,
        subject=f"Invoice {invoice.number} from {settings.COMPANY['name']}",
        template="billing/email/invoice.txt",
        context={"invoice": invoice, "company": settings.COMPANY},
        reply_to=settings.COMPANY.get("email", ""),
    )


# --- Recurring billing (billing.plans) ---------------------------------------------------


def invoice_from_lines(*, customer: Customer, by, lines: list[InvoiceLine], **fields) -> Invoice:
    """A draft invoice for `customer` on its payment terms with `lines` prepared by the
    caller (unsaved InvoiceLines, priced), and `fields` (currency, billing_plan,
    period_start, notes…) set as given. Runs in the caller's transaction; the caller
    checks who may (billing.plans' run makes each period's invoice here)."""
    invoice = _new_invoice(customer, by)
    for name, value in fields.items():
        setattr(invoice, name, value)
    invoice.save()
    _save_lines(invoice, lines)
    invoice.save()
    return invoice
