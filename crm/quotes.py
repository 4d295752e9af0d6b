"""Quotes: priced offers made from a deal, sent to the customer as a PDF.

- A quote is a snapshot: the deal's lines (with the tax name and percent of the day,
  taxed per line: core.money.tax_amount) and its terms when the quote was made. A later
  change to the deal or the catalog never changes it.
- Numbers are Q-<year>-<seq>, gapless per year (core.numbering), given when it is made.
- A draft may change (validity, notes, contact); once sent it never changes: a new
  version (revise_quote) supersedes it. The customer's answer is recorded on a sent
  quote (accepted / declined).
- The PDF is made by core.documents (kind "crm.quote"), once per quote while sent; a
  draft's PDF is made anew when the draft changes. Sending emails the stored PDF, after
  the transaction commits, from a task that sends each message once.

Who may: whoever may change the deal (crm.permissions.can_quote); everyone reads.
"""

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

import collaboration
from core import documents, money
from core.money import line_amount, tax_amount
from core.numbering import next_number

from .models import Contact, Opportunity, Quote, QuoteLine
from .permissions import can_quote

__all__ = [
    "QUOTE_DOCUMENT",
    "QuoteConflict",
    "create_quote",
    "email_quote",
    "mark_accepted",
    "mark_declined",
    "revise_quote",
    "send_quote",
    "update_quote",
]

QUOTE_DOCUMENT = "crm.quote"
SERIES = "Q"
DEFAULT_VALIDITY = datetime.timedelta(days=30)
FIELDS = frozenset({"valid_until", "notes", "contact"})

NEEDS_LINES = "Add at least one line to the deal before quoting it: a quote copies the deal's lines."
LOST_DEAL = "This deal is lost. Reopen it (move it to an open stage) before quoting it."


class QuoteConflict(ValidationError):
    """The quote's state forbids the operation (a sent quote is edited, a draft is
    accepted): pages show the message, the API answers 409."""


def _may_quote(by, opportunity: Opportunity) -> None:
    if not can_quote(by, opportunity):
        raise PermissionDenied("Only the deal's owner (or a sales manager) makes and sends its quotes.")


def _lock(quote: Quote) -> Quote:
    return Quote.objects.select_for_update().select_related("opportunity", "customer").get(pk=quote.pk)


def _refuse_unknown(data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})


def _clean_fields(quote: Quote, data: dict[str, Any]) -> None:
    """Apply validity, notes and contact to `quote` (unsaved changes), checking each."""
    _refuse_unknown(data)
    errors = {}
    if "valid_until" in data:
        valid_until = data["valid_until"] or quote.issue_date + DEFAULT_VALIDITY
        if not isinstance(valid_until, datetime.date):
            errors["valid_until"] = "Enter a date."
        elif valid_until < quote.issue_date:
            errors["valid_until"] = f"A quote is valid until a day on or after its issue date ({quote.issue_date})."
        else:
            quote.valid_until = valid_until
    if "notes" in data:
        quote.notes = str(data["notes"] or "").strip()
    if "contact" in data:
        contact = data["contact"]
        if contact is not None and not isinstance(contact, Contact):
            errors["contact"] = "Choose a contact of the customer."
        elif contact is not None and contact.customer_id != quote.customer_id:
            errors["contact"] = "Choose a contact of this quote's customer."
        else:
            quote.contact = contact
    if errors:
        raise ValidationError(errors)


def _snapshot(quote: Quote, opportunity: Opportunity) -> list[QuoteLine]:
    """The deal's lines as quote lines (unsaved), taxed per line; sets the quote's totals."""
    lines = []
    for position, line in enumerate(opportunity.lines.select_related("tax_rate").order_by("position", "id")):
        net = line_amount(line.quantity, line.unit_price, line.discount_percent)
        rate = line.tax_rate
        percent = rate.percentage if rate else Decimal("0")
        lines.append(
            QuoteLine(
                position=position,
                product_id=line.product_id,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                amount=net,
                tax_name=rate.name if rate else "",
                tax_percent=percent,
                tax_amount=tax_amount(net, percent),
            )
        )
    if not lines:
        raise ValidationError(NEEDS_LINES)
    quote.subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    quote.tax_total = sum((line.tax_amount for line in lines), Decimal("0.00"))
    quote.total = quote.subtotal + quote.tax_total
    return lines


def _save_with_lines(quote: Quote, lines: list[QuoteLine]) -> None:
    quote.save()
    for line in lines:
        line.quote = quote
    QuoteLine.objects.bulk_create(lines)


def _facts(quote: Quote) -> dict[str, Any]:
    return {"number": quote.number, "total": quote.total, "currency": quote.currency}


@transaction.atomic
def create_quote(*, opportunity: Opportunity, by, data: dict[str, Any] | None = None) -> Quote:
    """A draft quote of the deal's lines and terms, numbered Q-<year>-<seq>, valid for 30
    days unless `data["valid_until"]` says otherwise; its PDF is queued at once."""
    opportunity = Opportunity.objects.select_for_update().select_related("stage", "customer").get(pk=opportunity.pk)
    _may_quote(by, opportunity)
    if opportunity.stage.is_lost:
        raise ValidationError(LOST_DEAL)
    data = dict(data or {})
    _refuse_unknown(data)
    today = timezone.localdate()
    quote = Quote(
        opportunity=opportunity,
        customer=opportunity.customer,
        issue_date=today,
        valid_until=today + DEFAULT_VALIDITY,
        currency=opportunity.currency,
        payment_terms=opportunity.payment_terms,
        payment_days=opportunity.payment_days,
        created_by=by,
    )
    _clean_fields(quote, data)
    lines = _snapshot(quote, opportunity)
    # Numbered last, once everything else is valid: the number's row stays locked
    # until this transaction ends, and a refusal above takes no number.
    quote.number = next_number(SERIES, today.year)
    _save_with_lines(quote, lines)
    collaboration.publish(quote, "quote.created", actor=by, data=_facts(quote))
    collaboration.follow(by, quote)
    documents.request_document(quote, QUOTE_DOCUMENT)
    return quote


@transaction.atomic
def update_quote(*, quote: Quote, by, data: dict[str, Any]) -> Quote:
    """Change a draft's validity, notes or contact; its PDF is made anew. A sent quote
    never changes (QuoteConflict): make a new version instead."""
    quote = _lock(quote)
    _may_quote(by, quote.opportunity)
    if not quote.is_editable:
        raise QuoteConflict(
            f"Quote {quote.number} is {quote.get_status_display().lower()} and cannot change. "
            "Make a new version of it instead."
        )
    _clean_fields(quote, dict(data))
    quote.save()
    documents.request_document(quote, QUOTE_DOCUMENT, refresh=True)
    return quote


REVISABLE = (Quote.Status.DRAFT, Quote.Status.SENT, Quote.Status.DECLINED)


@transaction.atomic
def revise_quote(*, quote: Quote, by, data: dict[str, Any] | None = None) -> Quote:
    """A new version of the quote: a new draft of the deal's lines and terms as they are
    now, with the next revision and its own number, superseding the old one."""
    quote = _lock(quote)
    _may_quote(by, quote.opportunity)
    if quote.status not in REVISABLE:
        newest = "" if quote.status != Quote.Status.SUPERSEDED else " Revise its newest version instead."
        raise QuoteConflict(f"Quote {quote.number} is {quote.get_status_display().lower()}.{newest}")
    data = {"notes": quote.notes, "contact": quote.contact, **(data or {})}
    new = create_quote(opportunity=quote.opportunity, by=by, data=data)
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.SUPERSEDED, updated_at=timezone.now())
    Quote.objects.filter(pk=new.pk).update(revision=quote.revision + 1, supersedes=quote)
    new.refresh_from_db()
    collaboration.publish(
        new, "quote.revised", actor=by, data={**_facts(new), "revision": new.revision, "supersedes": quote.number}
    )
    return new


def _recipient(quote: Quote, contact: Contact | None, email: str) -> tuple[str, Contact | None]:
    if contact is not None:
        if contact.customer_id != quote.customer_id:
            raise ValidationError({"contact": "Choose a contact of this quote's customer."})
        if not contact.email:
            raise ValidationError({"contact": f"{contact.name} has no email address: enter one instead."})
        return contact.email, contact
    email = (email or "").strip()
    if not email:
        raise ValidationError({"email": "Choose a contact or enter an email address."})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    return email, None


@transaction.atomic
def send_quote(*, quote: Quote, by, contact: Contact | None = None, email: str = "", resend: bool = False) -> Quote:
    """Send the quote to a contact of the customer (or an address): a draft becomes
    sent and never changes again. The PDF (made once) is emailed after the transaction
    commits; the feed says so. A sent quote is sent again only with `resend=True` (the
    page asks to confirm)."""
    quote = _lock(quote)
    _may_quote(by, quote.opportunity)
    if quote.status == Quote.Status.SENT and not resend:
        raise QuoteConflict(
            f"Quote {quote.number} was sent to {quote.sent_to} already. Confirm to send it again.", code="sent"
        )
    if quote.status not in (Quote.Status.DRAFT, Quote.Status.SENT):
        raise QuoteConflict(f"Quote {quote.number} is {quote.get_status_display().lower()}: it is not sent again.")
    if quote.status == Quote.Status.DRAFT and quote.valid_until < timezone.localdate():
        raise ValidationError(
            {"valid_until": f"The quote expired on {quote.valid_until}: set a later “valid until” first."}
        )
    address, contact = _recipient(quote, contact, email)
    quote.status = Quote.Status.SENT
    quote.sent_at = timezone.now()
    quote.sent_to = address
    if contact is not None:
        quote.contact = contact
    quote.save()
    document = documents.request_document(quote, QUOTE_DOCUMENT)
    if document.is_failed:
        documents.retry_document(document)
    # Each send is one email, whatever retries its task takes (core.mail.send_once).
    key = f"{QUOTE_DOCUMENT}:{quote.pk}:{uuid.uuid4().hex}"
    from .tasks import send_quote_email  # the task module imports this one

    transaction.on_commit(lambda: send_quote_email.delay(quote.pk, address, key), robust=True)
    collaboration.publish(quote, "quote.sent", actor=by, data={**_facts(quote), "to": address})
    return quote


def _decide(quote: Quote, by, status: str, verb: str, data: dict) -> Quote:
    quote = _lock(quote)
    _may_quote(by, quote.opportunity)
    if quote.status != Quote.Status.SENT:
        raise QuoteConflict(
            f"Only a sent quote is accepted or declined; {quote.number} is {quote.get_status_display().lower()}."
        )
    quote.status = status
    quote.decided_at = timezone.now()
    quote.save(update_fields=["status", "decided_at", "updated_at"])
    collaboration.publish(quote, verb, actor=by, data={**_facts(quote), **data})
    return quote


@transaction.atomic
def mark_accepted(*, quote: Quote, by) -> Quote:
    """The customer said yes (win the deal separately: billing invoices the deal)."""
    return _decide(quote, by, Quote.Status.ACCEPTED, "quote.accepted", {})


@transaction.atomic
def mark_declined(*, quote: Quote, by, reason: str = "") -> Quote:
    reason = (reason or "").strip()[:200]
    return _decide(quote, by, Quote.Status.DECLINED, "quote.declined", {"reason": reason or "no reason given"})


# --- The email --------------------------------------------------------------------------


def email_quote(*, quote_id: int, to: str, key: str) -> bool:
    """Email the quote's stored PDF to `to`, once for `key` (what send_quote's task runs)."""
    quote = Quote.objects.select_related("customer", "contact", "created_by", "opportunity").get(pk=quote_id)
    sender = quote.created_by
    return documents.email_document(
        quote,
        QUOTE_DOCUMENT,
        key=key,
        to=to,
        subject=f"Quote {quote.number} from {settings.COMPANY['name']}",
        template="crm/email/quote.txt",
        context={"quote": quote, "company": settings.COMPANY, "sender": sender},
        reply_to=sender.email,
    )


# --- Reading ------------------------------------------------------------------------------


def document_context(quote: Quote) -> dict[str, Any]:
    """What the PDF's template (crm/documents/quote.html) reads."""
    quote = Quote.objects.select_related("customer", "contact", "created_by", "opportunity").get(pk=quote.pk)
    lines = list(quote.lines.all())
    return {"quote": quote, "customer": quote.customer, "lines": lines, "taxes": money.tax_summary(lines)}
