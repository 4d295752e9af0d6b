"""Invoice and credit-note PDFs and the invoice email, read back as a customer would:
the PDF's text (pdftotext) and the message the loopback SMTP server received.

The PDF is made once per issued invoice (the render task run twice renders once) and
reused by the download and every email; the email task run twice sends one email;
sending again needs `resend`."""

import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings

from billing import services
from billing.tasks import send_invoice_email
from collaboration.models import FeedItem
from core import documents
from core.models import Document
from core.tasks import render_document
from core.templatetags.concord import amount_filter, local_date_filter
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ISSUED_ON = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def renders(monkeypatch):
    """How many times WeasyPrint ran."""
    calls = []
    original = documents.render_pdf
    monkeypatch.setattr(documents, "render_pdf", lambda html: calls.append(1) or original(html))
    return calls


def pdf_text(data: bytes, *pages: int) -> str:
    first_last = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    command = ["pdftotext", "-layout", *first_last, "-", "-"]
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout.decode()


def page_count(data: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])


@pytest.fixture
def draft(rep, won_deal):
    """The won deal's draft: 875.92 net, 166.42 VAT 19 %, 1,042.34, net 45."""
    return services.invoice_opportunity(opportunity=won_deal, by=rep)


def issue(invoice, clerk, callbacks, execute=True):
    with callbacks(execute=execute):
        return services.issue_invoice(invoice=invoice, by=clerk, on=ISSUED_ON)


def pdf_of(record, kind=services.INVOICE_DOCUMENT) -> bytes:
    document = documents.document_for(record, kind)
    assert document is not None and document.status == Document.Status.READY, document and document.error
    return documents.document_pdf_bytes(document)


# --- the PDFs ------------------------------------------------------------------------------


def test_the_issued_invoice_pdf_shows_number_customer_total_due_date_and_terms(
    clerk, draft, customer, renders, django_capture_on_commit_callbacks
):
    invoice = issue(draft, clerk, django_capture_on_commit_callbacks)
    assert invoice.due_date == date(2026, 4, 24)  # net 45, as the deal was agreed

    document = documents.document_for(invoice, services.INVOICE_DOCUMENT)
    assert (document.filename, document.attempts, len(renders)) == ("INV-2026-000001.pdf", 1, 1)
    data = pdf_of(invoice)
    text = pdf_text(data)
    assert "INV-2026-000001" in text
    assert customer.billing_name in text and customer.tax_id in text
    assert f"{amount_filter(Decimal('1042.34'))} EUR" in text  # the total
    assert local_date_filter(date(2026, 4, 24)) in text  # the due date
    assert "Net 45" in text or "net 45" in text.lower()
    assert "VAT 19%" in text and amount_filter(Decimal("166.42")) in text  # the tax summary
    assert settings.COMPANY["name"] in text  # the company header
    assert "Page 1 of 1" in text


def test_a_long_invoice_repeats_the_table_header_and_numbers_its_pages(
    clerk, customer, django_capture_on_commit_callbacks
):
    lines = [{"description": f"Service item {n:03d}", "quantity": "1", "unit_price": "10.00"} for n in range(1, 91)]
    invoice = issue(
        services.create_invoice(by=clerk, customer=customer, lines=lines), clerk, django_capture_on_commit_callbacks
    )
    data = pdf_of(invoice)
    pages = page_count(data)
    assert pages >= 2
    for page in range(1, pages + 1):
        text = pdf_text(data, page)
        assert f"Page {page} of {pages}" in text
        if "Service item" in text:
            assert "Description" in text and "Unit price" in text, f"no table header on page {page}"
    assert "Service item 090" in pdf_text(data, pages) or "Service item 090" in pdf_text(data)
    assert f"{amount_filter(Decimal('900.00'))} EUR" in pdf_text(data)


def test_the_render_task_run_twice_renders_once(clerk, draft, renders, django_capture_on_commit_callbacks):
    invoice = issue(draft, clerk, django_capture_on_commit_callbacks, execute=False)
    document = documents.document_for(invoice, services.INVOICE_DOCUMENT)
    assert document.status == Document.Status.PENDING

    render_document(document.pk)
    document.refresh_from_db()
    stored = (document.file.name, document.sha256)
    render_document(document.pk)  # delivered twice

    document.refresh_from_db()
    assert (document.status, document.attempts, len(renders)) == (Document.Status.READY, 1, 1)
    assert (document.file.name, document.sha256) == stored


def test_the_credit_note_pdf_shows_its_number_the_invoice_and_the_amount(
    clerk, draft, customer, django_capture_on_commit_callbacks
):
    invoice = issue(draft, clerk, django_capture_on_commit_callbacks)
    licences = invoice.lines.get(description="Licences")
    with django_capture_on_commit_callbacks(execute=True):
        note = services.credit_invoice(
            invoice=invoice,
            by=clerk,
            reason="Two licences returned",
            lines=[{"invoice_line": licences.pk, "quantity": "2"}],
            on=ISSUED_ON,
        )
    text = pdf_text(pdf_of(note, services.CREDIT_NOTE_DOCUMENT))
    assert note.number == "CN-2026-000001" and note.number in text
    assert invoice.number in text
    assert "Two licences returned" in text
    assert amount_filter(Decimal("208.23")) in text  # 174.98 net + 33.25 VAT
    assert customer.billing_name in text


# --- the email ------------------------------------------------------------------------------


def test_sending_emails_the_stored_pdf_to_the_billing_address(
    clerk, draft, customer, smtp_inbox, renders, django_capture_on_commit_callbacks
):
    invoice = issue(draft, clerk, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.send_invoice(invoice=invoice, by=clerk)

    assert sent.sent_to == customer.email and sent.sent_at is not None
    (message,) = smtp_inbox.wait_for(1)
    assert message["X-Envelope-To"] == customer.email
    assert "INV-2026-000001" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert local_date_filter(date(2026, 4, 24)) in body and amount_filter(Decimal("1042.34")) in body
    (attachment,) = list(message.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content_type()) == ("INV-2026-000001.pdf", "application/pdf")
    text = pdf_text(attachment.get_content())
    assert "INV-2026-000001" in text and customer.billing_name in text
    assert attachment.get_content() == pdf_of(invoice)  # the stored file itself
    assert len(renders) == 1  # made on issue, reused by the email
    assert FeedItem.objects.filter(verb="invoice.sent").count() == 1


def test_an_invoice_sent_before_its_pdf_is_made_renders_it_once_for_the_email(
    clerk, draft, smtp_inbox, renders, django_capture_on_commit_callbacks
):
    invoice = issue(draft, clerk, django_capture_on_commit_callbacks, execute=False)  # no worker got to it
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invoice(invoice=invoice, by=clerk, to="ap@acme.example")
    (message,) = smtp_inbox.wait_for(1)
    assert "INV-2026-000001" in pdf_text(next(message.iter_attachments()).get_content())
    render_document(documents.document_for(invoice, services.INVOICE_DOCUMENT).pk)  # the late render task
    assert len(renders) == 1


def test_the_email_task_run_twice_sends_once(clerk, draft, smtp_inbox, django_capture_on_commit_callbacks):
    invoice = issue(draft, clerk, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.send_invoice(invoice=invoice, by=clerk, to="ap@acme.example")
    (send,) = [callback for callback in callbacks if callback.__qualname__.startswith("send_invoice.")]
    for callback in callbacks:
        callback()
    send()  # the same send delivered twice
    assert len(smtp_inbox.wait_for(1)) == 1
    assert len(smtp_inbox.messages) == 1
    assert send_invoice_email.name == "billing.tasks.send_invoice_email"


def test_sending_twice_needs_resend_and_then_sends_again(
    clerk, draft, smtp_inbox, renders, django_capture_on_commit_callbacks
):
    invoice = issue(draft, clerk, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invoice(invoice=invoice, by=clerk, to="ap@acme.example")
    with (
        pytest.raises(services.InvoiceConflict, match="Confirm to send it again"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.send_invoice(invoice=invoice, by=clerk, to="other@acme.example")
    assert len(smtp_inbox.wait_for(1)) == 1
    invoice.refresh_from_db()
    assert invoice.sent_to == "ap@acme.example"

    with django_capture_on_commit_callbacks(execute=True):
        services.send_invoice(invoice=invoice, by=clerk, to="other@acme.example", resend=True)
    first, second = smtp_inbox.wait_for(2)
    assert (first["X-Envelope-To"], second["X-Envelope-To"]) == ("ap@acme.example", "other@acme.example")
    invoice.refresh_from_db()
    assert invoice.sent_to == "other@acme.example"
    assert len(renders) == 1  # one PDF for the invoice, whatever the sends
    assert FeedItem.objects.filter(verb="invoice.sent").count() == 2


def test_without_an_invoice_address_the_primary_contact_gets_it(
    clerk, draft, customer, smtp_inbox, django_capture_on_commit_callbacks
):
    customer.email = ""
    customer.save()
    ContactFactory(customer=customer, email="paula@acme.example", is_primary=True)
    invoice = issue(draft, clerk, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invoice(invoice=invoice, by=clerk)
    assert smtp_inbox.wait_for(1)[0]["X-Envelope-To"] == "paula@acme.example"


def test_a_failed_pdf_is_rendered_again_when_the_invoice_is_sent(
    clerk, draft, smtp_inbox, monkeypatch, django_capture_on_commit_callbacks
):
    original = documents.render_pdf
    monkeypatch.setattr(documents, "render_pdf", lambda html: (_ for _ in ()).throw(OSError("no fonts")))
    invoice = issue(draft, clerk, django_capture_on_commit_callbacks)
    document = documents.document_for(invoice, services.INVOICE_DOCUMENT)
    assert document.status == Document.Status.FAILED and "no fonts" in document.error

    monkeypatch.setattr(documents, "render_pdf", original)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invoice(invoice=invoice, by=clerk, to="ap@acme.example")
    (message,) = smtp_inbox.wait_for(1)
    assert "INV-2026-000001" in pdf_text(next(message.iter_attachments()).get_content())
    document.refresh_from_db()
    assert document.status == Document.Status.READY
