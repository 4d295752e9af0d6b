"""Quotes (crm.quotes): a numbered snapshot of the deal, its PDF, sending it by email
once, immutability once sent, new versions, the customer's answer, and who may."""

import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from collaboration.api import event_text
from collaboration.models import FeedItem
from collaboration.selectors import record_feed
from core import documents, money
from core.models import Document, Sequence
from core.numbering import next_number
from crm import opportunities, quotes
from crm.models import Quote
from tests.factories import ContactFactory, TaxRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def vat():
    return TaxRateFactory(name="VAT 19%", percentage=Decimal("19"))


@pytest.fixture
def deal(rep, customer, vat):
    deal = opportunities.create_opportunity(
        by=rep, customer=customer, data={"name": "Acme rollout", "expected_close_date": date(2027, 3, 31)}
    )
    return opportunities.set_lines(
        opportunity=deal,
        by=rep,
        lines=[
            {"description": "Licences", "quantity": "3", "unit_price": "333.33", "tax_rate": vat.pk},
            {"description": "Training day", "quantity": "1", "unit_price": "999.99", "discount_percent": "10"},
        ],
    )


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Paula Buyer", email="paula@acme.example")


@pytest.fixture
def quote(rep, deal):
    return quotes.create_quote(opportunity=deal, by=rep)


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


# --- Numbers ------------------------------------------------------------------------------


def test_numbers_run_per_series_and_year_without_gaps():
    assert [next_number("Q", 2026) for _ in range(3)] == ["Q-2026-000001", "Q-2026-000002", "Q-2026-000003"]
    assert next_number("Q", 2027) == "Q-2027-000001"
    assert next_number("INV", 2026, width=4) == "INV-2026-0001"
    assert Sequence.objects.get(key="Q", year=2026).last == 3


def test_a_quote_is_numbered_q_year_seq(rep, deal):
    first = quotes.create_quote(opportunity=deal, by=rep)
    second = quotes.create_quote(opportunity=deal, by=rep)
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"Q-{year}-000001", f"Q-{year}-000002")


def test_a_refused_quote_takes_no_number(rep, customer, deal):
    empty = opportunities.create_opportunity(
        by=rep, customer=customer, data={"name": "Empty", "expected_close_date": date(2027, 3, 31)}
    )
    with pytest.raises(ValidationError, match="Add at least one line"):
        quotes.create_quote(opportunity=empty, by=rep)
    assert quotes.create_quote(opportunity=deal, by=rep).number.endswith("-000001")


# --- The snapshot -------------------------------------------------------------------------


def test_a_quote_copies_the_deals_lines_terms_and_taxes_rounded_per_line(quote, deal):
    lines = list(quote.lines.all())
    assert [(line.description, line.amount, line.tax_name, line.tax_percent, line.tax_amount) for line in lines] == [
        ("Licences", Decimal("999.99"), "VAT 19%", Decimal("19.00"), Decimal("190.00")),
        ("Training day", Decimal("899.99"), "", Decimal("0.00"), Decimal("0.00")),
    ]
    assert (quote.subtotal, quote.tax_total, quote.total) == (Decimal("1899.98"), Decimal("190.00"), Decimal("2089.98"))
    assert (quote.currency, quote.payment_terms, quote.payment_days) == (
        deal.currency,
        deal.payment_terms,
        deal.payment_days,
    )
    assert quote.valid_until == quote.issue_date + timedelta(days=30)
    assert quote.status == Quote.Status.DRAFT


def test_later_changes_to_the_deal_and_the_catalog_leave_the_quote_alone(rep, quote, deal, vat):
    opportunities.set_lines(opportunity=deal, by=rep, lines=[{"description": "Other", "quantity": 1, "unit_price": 5}])
    vat.name, vat.percentage = "VAT 21%", Decimal("21")
    vat.save()
    quote.refresh_from_db()
    assert [line.description for line in quote.lines.all()] == ["Licences", "Training day"]
    assert quote.lines.first().tax_name == "VAT 19%"
    assert quote.total == Decimal("2089.98")


def test_tax_summary_groups_lines_by_rate(quote):
    assert money.tax_summary(quote.lines.all()) == [
        {"name": "VAT 19%", "percent": Decimal("19.00"), "net": Decimal("999.99"), "tax": Decimal("190.00")},
        {"name": "No tax", "percent": Decimal("0.00"), "net": Decimal("899.99"), "tax": Decimal("0.00")},
    ]


def test_a_contact_of_another_customer_is_refused(rep, deal):
    stranger = ContactFactory(email="x@elsewhere.example")
    with pytest.raises(ValidationError) as error:
        quotes.create_quote(opportunity=deal, by=rep, data={"contact": stranger})
    assert "contact" in error.value.message_dict


def test_valid_until_before_the_issue_date_is_refused(rep, deal):
    with pytest.raises(ValidationError) as error:
        quotes.create_quote(opportunity=deal, by=rep, data={"valid_until": date(2000, 1, 1)})
    assert "valid_until" in error.value.message_dict


# --- The PDF ------------------------------------------------------------------------------


def test_the_pdf_shows_the_number_customer_and_total(rep, deal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        quote = quotes.create_quote(opportunity=deal, by=rep)
    document = documents.document_for(quote, quotes.QUOTE_DOCUMENT)
    assert document.status == Document.Status.READY
    assert document.filename == f"{quote.number}.pdf"
    text = pdf_text(documents.document_pdf_bytes(document))
    assert quote.number in text
    assert "Acme Industries GmbH" in text
    assert "2,089.98 EUR" in text or "2.089,98 EUR" in text
    assert "Page 1 of 1" in text


def test_changing_a_draft_makes_its_pdf_anew(rep, quote, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        quotes.update_quote(quote=quote, by=rep, data={"notes": "Delivery in May."})
    document = documents.document_for(quote, quotes.QUOTE_DOCUMENT)
    assert "Delivery in May." in pdf_text(documents.document_pdf_bytes(document))


# --- Sending ------------------------------------------------------------------------------


def test_sending_emails_the_pdf_to_the_contact_once_and_tells_the_feed(
    rep, quote, contact, smtp_inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = quotes.send_quote(quote=quote, by=rep, contact=contact)
    assert (sent.status, sent.sent_to, sent.contact) == ("sent", "paula@acme.example", contact)
    (message,) = smtp_inbox.wait_for(1)
    assert message["To"] == "paula@acme.example"
    assert quote.number in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"{quote.number}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert quote.number in pdf_text(attachment.get_content())
    item = FeedItem.objects.get(verb="quote.sent")
    assert event_text(item) == f"Sent quote {quote.number} to paula@acme.example"
    # On the quote's feed, and rolled up to the deal's and the customer's.
    for record in (quote, quote.opportunity, quote.customer):
        assert item in record_feed(rep, record)


def test_the_pdf_is_rendered_once_for_the_page_and_the_email(
    rep, quote, contact, smtp_inbox, django_capture_on_commit_callbacks
):
    calls = []
    original = documents.render_pdf
    documents.render_pdf = lambda html: calls.append(1) or original(html)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            quotes.send_quote(quote=quote, by=rep, contact=contact)
    finally:
        documents.render_pdf = original
    smtp_inbox.wait_for(1)
    assert len(calls) == 1


def test_the_email_task_run_twice_sends_once(rep, quote, contact, smtp_inbox, django_capture_on_commit_callbacks):
    from crm.tasks import send_quote_email

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        quotes.send_quote(quote=quote, by=rep, email="buyer@acme.example")
    for callback in callbacks:
        callback()
    task_call = callbacks[-1]
    task_call()  # the same send, delivered twice
    assert len(smtp_inbox.wait_for(1)) == 1
    assert send_quote_email  # the task the callback queued


def test_a_sent_quote_cannot_change(rep, quote, contact):
    quotes.send_quote(quote=quote, by=rep, contact=contact)
    with pytest.raises(quotes.QuoteConflict, match="cannot change"):
        quotes.update_quote(quote=quote, by=rep, data={"notes": "sneaky"})
    quote.refresh_from_db()
    assert quote.notes == ""


def test_sending_again_needs_confirmation(rep, quote, contact):
    quotes.send_quote(quote=quote, by=rep, contact=contact)
    with pytest.raises(quotes.QuoteConflict, match="Confirm"):
        quotes.send_quote(quote=quote, by=rep, email="other@acme.example")
    again = quotes.send_quote(quote=quote, by=rep, email="other@acme.example", resend=True)
    assert again.sent_to == "other@acme.example"


def test_sending_needs_an_address(rep, quote):
    with pytest.raises(ValidationError) as error:
        quotes.send_quote(quote=quote, by=rep)
    assert "email" in error.value.message_dict
    with pytest.raises(ValidationError):
        quotes.send_quote(quote=quote, by=rep, email="not-an-address")
    quote.refresh_from_db()
    assert quote.status == "draft"


# --- Versions and answers ---------------------------------------------------------------


def test_a_new_version_supersedes_the_old_with_the_deal_as_it_is_now(rep, quote, deal, contact):
    quotes.send_quote(quote=quote, by=rep, contact=contact)
    opportunities.set_lines(
        opportunity=deal, by=rep, lines=[{"description": "Bigger", "quantity": 2, "unit_price": 50}]
    )
    new = quotes.revise_quote(quote=quote, by=rep)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SUPERSEDED
    assert (new.revision, new.supersedes, new.status) == (2, quote, Quote.Status.DRAFT)
    assert new.number != quote.number
    assert [line.description for line in new.lines.all()] == ["Bigger"]
    assert new.contact == contact
    with pytest.raises(quotes.QuoteConflict):
        quotes.revise_quote(quote=quote, by=rep)


def test_only_a_sent_quote_is_accepted_or_declined(rep, quote, contact):
    with pytest.raises(quotes.QuoteConflict):
        quotes.mark_accepted(quote=quote, by=rep)
    quotes.send_quote(quote=quote, by=rep, contact=contact)
    accepted = quotes.mark_accepted(quote=quote, by=rep)
    assert accepted.status == "accepted" and accepted.decided_at is not None
    with pytest.raises(quotes.QuoteConflict):
        quotes.mark_declined(quote=quote, by=rep)
    assert FeedItem.objects.filter(verb="quote.accepted").count() == 1


def test_declining_records_the_reason(rep, quote, contact):
    quotes.send_quote(quote=quote, by=rep, contact=contact)
    quotes.mark_declined(quote=quote, by=rep, reason="Too expensive")
    assert FeedItem.objects.get(verb="quote.declined").data["reason"] == "Too expensive"


# --- Who may ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "may"),
    [
        ("rep", True),
        ("other_rep", False),
        ("sales_manager", True),
        ("clerk", False),
        ("finance_manager", False),
        ("admin", True),
    ],
)
def test_who_may_quote_a_deal(actors, deal, actor, may):
    if may:
        assert quotes.create_quote(opportunity=deal, by=actors[actor]).pk
    else:
        with pytest.raises(PermissionDenied):
            quotes.create_quote(opportunity=deal, by=actors[actor])


@pytest.mark.parametrize("actor", ["other_rep", "clerk", "finance_manager"])
def test_who_may_not_send_or_answer(actors, quote, contact, actor):
    with pytest.raises(PermissionDenied):
        quotes.send_quote(quote=quote, by=actors[actor], contact=contact)
    with pytest.raises(PermissionDenied):
        quotes.update_quote(quote=quote, by=actors[actor], data={"notes": "x"})


# --- Pages --------------------------------------------------------------------------------


def test_making_a_quote_from_the_deal_page(signed_in, deal, contact, django_capture_on_commit_callbacks):
    client = signed_in("rep")
    url = reverse("crm:quote_create", args=[deal.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"valid_until": "", "contact": contact.pk, "notes": "Thanks!"})
    quote = Quote.objects.get()
    assert response.status_code == 302 and response["Location"] == quote.get_absolute_url()
    assert quote.contact == contact and quote.notes == "Thanks!"
    page = client.get(quote.get_absolute_url()).content.decode()
    assert quote.number in page
    assert reverse("core:document_download", args=[documents.document_for(quote, "crm.quote").pk]) in page
    pdf = client.get(reverse("crm:quote_pdf", args=[quote.pk]))
    assert pdf.status_code == 200 and f'filename="{quote.number}.pdf"' in pdf["Content-Disposition"]


def test_a_deal_without_lines_is_refused_with_a_message(signed_in, rep, customer):
    empty = opportunities.create_opportunity(
        by=rep, customer=customer, data={"name": "Empty", "expected_close_date": date(2027, 3, 31)}
    )
    response = signed_in("rep").post(reverse("crm:quote_create", args=[empty.pk]), {})
    assert response.status_code == 400
    assert "Add at least one line" in response.content.decode()
    assert not Quote.objects.exists()


def test_the_quote_page_shows_lines_totals_taxes_and_the_pdf_status(signed_in, quote, django_assert_max_num_queries):
    client = signed_in("clerk")
    with django_assert_max_num_queries(30):
        response = client.get(quote.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert "Licences" in page and "VAT 19%" in page and "2,089.98" in page
    assert "Making the PDF" in page and 'hx-trigger="every 1500ms"' in page
    assert 'id="send-form"' not in page and 'id="revise-quote"' not in page  # finance reads only


def test_sending_from_the_page(signed_in, quote, contact, smtp_inbox, django_capture_on_commit_callbacks):
    client = signed_in("rep")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("crm:quote_send", args=[quote.pk]), {"contact": contact.pk, "email": ""})
    assert response.status_code == 302
    assert smtp_inbox.wait_for(1)[0]["To"] == "paula@acme.example"
    again = client.post(reverse("crm:quote_send", args=[quote.pk]), {"contact": contact.pk})
    assert again.status_code == 400 and "Confirm to send it again" in again.content.decode()
    edit = client.post(reverse("crm:quote_edit", args=[quote.pk]), {"notes": "changed"}, follow=True)
    assert "cannot change" in edit.content.decode()


def test_accept_decline_and_new_version_from_the_page(signed_in, rep, quote, contact):
    client = signed_in("rep")
    quotes.send_quote(quote=quote, by=rep, contact=contact)
    client.post(reverse("crm:quote_decline", args=[quote.pk]), {"reason": "Budget"})
    quote.refresh_from_db()
    assert quote.status == "declined"
    response = client.post(reverse("crm:quote_revise", args=[quote.pk]))
    new = Quote.objects.get(supersedes=quote)
    assert response["Location"] == new.get_absolute_url()


def test_other_reps_and_finance_may_not_operate_on_the_page(signed_in, quote, deal):
    for actor in ("other_rep", "clerk"):
        client = signed_in(actor)
        assert client.get(quote.get_absolute_url()).status_code == 200
        assert client.post(reverse("crm:quote_revise", args=[quote.pk])).status_code == 403
        assert client.post(reverse("crm:quote_create", args=[deal.pk])).status_code == 403


def test_the_deal_quotes_panel(rf, rep, quote, deal):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = rep
    html = render_to_string("crm/includes/deal_quotes.html", {"opportunity": deal, "request": request})
    assert quote.number in html and reverse("crm:quote_create", args=[deal.pk]) in html
