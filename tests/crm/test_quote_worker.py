"""A quote's PDF made and mailed by a real Celery worker: the task travels through
Redis, WeasyPrint runs in the worker, the stored PDF is attached to the email that
reaches the loopback SMTP server. (Every other quote test runs tasks eagerly.)"""

import time
from datetime import date

import pytest

from core import documents
from crm import opportunities, quotes
from crm.quotes import QUOTE_DOCUMENT
from tests.factories import ContactFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for_document(quote, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        document = documents.document_for(quote, QUOTE_DOCUMENT)
        if document is not None and document.status in (document.Status.READY, document.Status.FAILED):
            return document
        time.sleep(0.2)
    pytest.fail(f"the worker did not render the quote in {seconds} s")


def test_a_real_worker_renders_the_quote_and_mails_it_with_the_pdf(celery_worker_process, rep, customer):
    inbox = celery_worker_process
    inbox.clear()
    contact = ContactFactory(customer=customer, name="Jane Buyer", email="jane@acme.example")
    deal = opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "Acme rollout", "expected_close_date": date(2027, 3, 31)},
        lines=[{"description": "Fleet tracking", "quantity": "40", "unit_price": "180.00"}],
    )
    quote = quotes.create_quote(opportunity=deal, by=rep)

    document = wait_for_document(quote)
    assert document.status == document.Status.READY, document.error
    assert documents.document_pdf_bytes(document).startswith(b"%PDF")

    quotes.send_quote(quote=quote, by=rep, contact=contact)
    (message,) = inbox.wait_for(1)
    assert message["X-Envelope-To"] == "jane@acme.example"
    assert quote.number in message["Subject"]
    (attachment,) = [part for part in message.iter_attachments()]
    assert attachment.get_filename() == f"{quote.number}.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    document.refresh_from_db()
    assert document.attempts == 1  # rendered once, by the worker; the email reused it
