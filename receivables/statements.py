"""Customer statements: what a customer owed on a day, item by item, as a page, a PDF
(core.documents) and an email — on demand, and monthly for the customers who opt in.

A statement lists the open items at the end of its as-of day, read from the ledger as
it stood then (receivables.aging): each invoice with what it still owed, its due date,
days overdue and aging bucket, and each payment with credit left unapplied, as a
negative line. Items are in date order with a running balance per currency (EUR is
never added to USD); the totals are the balance, and beside them the aging row.

- request_statement: the Statement row for (customer, day) and its PDF, made anew,
  since what was open on a past day still changes when a payment is entered late.
- send_statement: emails the PDF after the transaction commits (a Celery task, once per
  key: core.mail); a second sending for the same day needs `resend`.
- send_monthly_statements: the beat's job on the 1st for the previous month's end, for
  the customers who opted in (Standing.monthly_statement) and owe something or hold
  credit. Run twice, it sends once: a statement sent already is skipped, and each
  customer's email has the key (customer, day).
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

import collaboration
from billing.models import Invoice
from core import documents
from crm.models import Customer

from . import aging
from .aging import CENT, Bucket
from .models import ZERO, Payment, Standing, Statement
from .permissions import can_manage_statements, can_view_standing

logger = logging.getLogger(__name__)

STATEMENT_DOCUMENT = "receivables.statement"

__all__ = [
    "STATEMENT_DOCUMENT",
    "StatementConflict",
    "email_statement",
    "last_month_end",
    "request_statement",
    "send_monthly_statements",
    "send_statement",
    "set_monthly_statement",
    "statement_for",
]


class StatementConflict(ValidationError):
    """The statement was sent already: a confirmation on pages, a 409 in the API."""


# --- reading: the statement's content ------------------------------------------------------


@dataclass(frozen=True)
class StatementItem:
    """One open item: an invoice (a positive amount) or a payment's unapplied credit (negative)."""

    kind: str  # "invoice" or "payment"
    record: Invoice | Payment
    date: date
    number: str
    amount: Decimal  # the invoice's total or the payment's amount, as issued/received
    open_amount: Decimal  # what it still counted at the day: owed (+) or credit (−)
    balance: Decimal  # running balance, this item included
    due_date: date | None = None
    days_overdue: int = 0
    bucket: Bucket | None = None
    reference: str = ""

    @property
    def is_invoice(self) -> bool:
        return self.kind == "invoice"


@dataclass
class CurrencyStatement:
    """A customer's items in one currency, their totals and that currency's aging row."""

    currency: str
    items: list[StatementItem] = field(default_factory=list)
    invoiced: Decimal = ZERO  # open invoices
    credit: Decimal = ZERO  # unapplied payments (positive here)
    overdue: Decimal = ZERO
    buckets: list[tuple[Bucket, Decimal]] = field(default_factory=list)  # the aging row

    @property
    def balance(self) -> Decimal:
        """What the customer owes (negative: what it holds in credit)."""
        return self.invoiced - self.credit


@dataclass
class CustomerStatement:
    customer: Customer
    as_of: date
    currencies: list[CurrencyStatement]

    @property
    def is_empty(self) -> bool:
        return not self.currencies


def bucket_for(days_overdue: int) -> Bucket | None:
    """The aging bucket of an item `days_overdue` past due (≤ 0: not due yet)."""
    for bucket in aging.buckets():
        if (bucket.low is None or days_overdue > bucket.low) and (bucket.high is None or days_overdue <= bucket.high):
            return bucket
    return None


def _cents(value) -> Decimal:
    return Decimal(value).quantize(aging.CENT)


def statement_for(customer: Customer, as_of: date) -> CustomerStatement:
    """What `customer` owed at the end of `as_of`: its open items in date order with
    a running balance, totals and the aging row, per currency. Three queries."""
    invoices = aging.open_invoices(as_of, Invoice.objects.filter(customer=customer))
    payments = (
        aging.payments_as_of(as_of, Q(customer=customer))
        .filter(credit__gte=CENT)
        .annotate(credit_then=F("credit"))
        .order_by("received_on", "id")
    )
    entries = []
    for invoice in invoices:
        days = (as_of - invoice.due_date).days
        entries.append((invoice.issue_date, 0, invoice.pk, "invoice", invoice, _cents(invoice.open_then), days))
    for payment in payments:
        entries.append((payment.received_on, 1, payment.pk, "payment", payment, -_cents(payment.credit_then), 0))
    entries.sort(key=lambda entry: entry[:3])

    currencies: dict[str, CurrencyStatement] = {}
    for day, _, _, kind, record, open_amount, days in entries:
        section = currencies.setdefault(record.currency, CurrencyStatement(record.currency))
        running = (section.items[-1].balance if section.items else ZERO) + open_amount
        if kind == "invoice":
            section.invoiced += open_amount
            if days > 0:
                section.overdue += open_amount
            item = StatementItem(
                kind=kind,
                record=record,
                date=day,
                number=record.number,
                amount=record.total,
                open_amount=open_amount,
                balance=running,
                due_date=record.due_date,
                days_overdue=max(days, 0),
                bucket=bucket_for(days),
            )
        else:
            section.credit -= open_amount
            item = StatementItem(
                kind=kind,
                record=record,
                date=day,
                number=record.number,
                amount=record.amount,
                open_amount=open_amount,
                balance=running,
                reference=record.reference,
            )
        section.items.append(item)

    rows = {row["currency"]: row for row in aging.customer_aging(customer, as_of)}
    for currency, section in currencies.items():
        section.buckets = aging.amounts(rows.get(currency, {}))
    return CustomerStatement(customer=customer, as_of=as_of, currencies=sorted(currencies.values(), key=_currency))


def _currency(section: CurrencyStatement) -> str:
    return section.currency


def last_month_end(today: date) -> date:
    """The as-of day of the monthly statements sent on `today`: the previous month's last day."""
    return today.replace(day=1) - timedelta(days=1)


# --- the PDF ----------------------------------------------------------------------------


def document_context(statement: Statement) -> dict:
    """What templates/receivables/documents/statement.html reads (core.documents kind)."""
    statement = Statement.objects.select_related("customer").get(pk=statement.pk)
    return {"statement": statement, "report": statement_for(statement.customer, statement.as_of)}


def document_filename(statement: Statement) -> str:
    name = slugify(statement.customer.name)[:60] or f"customer-{statement.customer_id}"
    return f"statement-{name}-{statement.as_of:%Y-%m-%d}.pdf"


# --- operations ---------------------------------------------------------------------------


def _statement(customer: Customer, as_of: date, by) -> Statement:
    """The (customer, day) statement, created if need be, locked until the transaction ends."""
    statement, _ = Statement.objects.get_or_create(
        customer=customer, as_of=as_of, defaults={"created_by": by if by and by.is_authenticated else None}
    )
    return Statement.objects.select_for_update().select_related("customer").get(pk=statement.pk)


@transaction.atomic
def request_statement(*, customer: Customer, by, as_of) -> Statement:
    """The customer's statement as of the day, its PDF queued to be made anew (from the
    ledger as it is now). Whoever reads the customer's standing may."""
    if not can_view_standing(by, customer):
        raise PermissionDenied("You may not see this customer's receivables.")
    as_of = aging.check_as_of(as_of)
    statement = _statement(customer, as_of, by)
    documents.request_document(statement, STATEMENT_DOCUMENT, refresh=True)
    return statement


def statement_recipient(customer: Customer) -> str:
    """Where statements go: the customer's invoice address, else its primary contact's."""
    if customer.email:
        return customer.email
    primary = getattr(customer, "primary_contact_email", None)
    if primary is None:
        contact = customer.contacts.filter(is_primary=True).exclude(email="").first()
        primary = contact.email if contact else ""
    return primary or ""


def _address(to: str, customer: Customer) -> str:
    address = (to or "").strip() or statement_recipient(customer)
    if not address:
        raise ValidationError({"to": "The customer has no email address for invoices: enter one."})
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"to": "Enter a valid email address."}) from None
    return address


def _send(statement: Statement, address: str, *, key: str, by) -> Statement:
    """Record the sending, queue the PDF anew and the email after commit, tell the feed."""
    statement.sent_at = timezone.now()
    statement.sent_to = address
    statement.save(update_fields=["sent_at", "sent_to"])
    documents.request_document(statement, STATEMENT_DOCUMENT, refresh=True)
    from .tasks import send_statement_email  # the task module imports this one

    statement_id = statement.pk
    transaction.on_commit(lambda: send_statement_email.delay(statement_id, address, key), robust=True)
    collaboration.publish(
        statement.customer,
        "statement.sent",
        actor=by,
        data={"as_of": statement.as_of.isoformat(), "to": address},
    )
    return statement


@transaction.atomic
def send_statement(*, customer: Customer, by, as_of, to: str = "", resend: bool = False) -> Statement:
    """Email the customer its statement as of the day (the PDF attached) to `to` or its
    invoice address, after the transaction commits. A statement sent already for that
    day goes again only with `resend=True`. Finance sends statements."""
    if not can_manage_statements(by):
        raise PermissionDenied("Only finance sends statements.")
    as_of = aging.check_as_of(as_of)
    address = _address(to, customer)
    statement = _statement(customer, as_of, by)
    if statement.sent_at and not resend:
        raise StatementConflict(
            f"The statement as of {as_of:%Y-%m-%d} was sent to {statement.sent_to} already. Confirm to send it again.",
            code="sent",
        )
    # A key per sending: a confirmed resend is a new email, a retried task is not.
    return _send(statement, address, key=f"{STATEMENT_DOCUMENT}:{statement.pk}:{uuid.uuid4().hex}", by=by)


def customers_due_a_statement(as_of: date) -> list[int]:
    """Ids of the customers who opted in and, at the end of `as_of`, owed something or
    held unapplied credit. Two aggregate queries."""
    opted_in = Q(customer__standing__monthly_statement=True)
    owing = (
        aging.invoices_as_of(as_of, Invoice.objects.filter(opted_in))
        .filter(open_amount__gte=CENT)
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()
    )
    holding = (
        aging.payments_as_of(as_of, opted_in).filter(credit__gte=CENT).order_by().values_list("customer_id", flat=True)
    )
    return sorted(set(owing) | set(holding.distinct()))


def send_monthly_statements(*, as_of: date) -> int:
    """Email the statement as of `as_of` to each customer who wants one monthly and owes
    something or holds credit; how many were sent. Customers already sent a statement
    for that day, and those without an address (logged), are skipped — so a second run
    sends nothing more. One transaction per customer: one failure stops no one else."""
    sent = 0
    customers = Customer.objects.with_primary_contact().filter(pk__in=customers_due_a_statement(as_of))
    for customer in customers.order_by("pk"):
        address = statement_recipient(customer)
        if not address:
            logger.warning("No monthly statement for customer %s: it has no email address.", customer.pk)
            continue
        with transaction.atomic():
            statement = _statement(customer, as_of, None)
            if statement.sent_at:
                continue
            _send(statement, address, key=f"{STATEMENT_DOCUMENT}:monthly:{customer.pk}:{as_of:%Y-%m-%d}", by=None)
        sent += 1
    return sent


def email_statement(*, statement_id: int, to: str, key: str) -> bool:
    """Email the statement's stored PDF to `to`, once for `key` (the send task)."""
    from core.templatetags.concord import local_date_filter

    statement = Statement.objects.select_related("customer").get(pk=statement_id)
    return documents.email_document(
        statement,
        STATEMENT_DOCUMENT,
        key=key,
        to=to,
        subject=f"Statement of account as of {local_date_filter(statement.as_of)} from {settings.COMPANY['name']}",
        template="receivables/email/statement.txt",
        context={
            "statement": statement,
            "report": statement_for(statement.customer, statement.as_of),
            "company": settings.COMPANY,
        },
        reply_to=settings.COMPANY.get("email", ""),
    )


@transaction.atomic
def set_monthly_statement(*, customer: Customer, by, enabled: bool) -> Standing:
    """Turn the customer's monthly statement on or off (finance); the feed says so."""
    if not can_manage_statements(by):
        raise PermissionDenied("Only finance chooses who gets a monthly statement.")
    Standing.objects.get_or_create(customer=customer)
    standing = Standing.objects.select_for_update().get(customer=customer)
    if standing.monthly_statement != enabled:
        standing.monthly_statement = enabled
        standing.save(update_fields=["monthly_statement"])
        verb = "statement.monthly_on" if enabled else "statement.monthly_off"
        collaboration.publish(customer, verb, actor=by, data={})
    return standing
