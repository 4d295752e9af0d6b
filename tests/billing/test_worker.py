"""An invoice's PDF made and mailed by a real Celery worker: issuing queues the
rendering through Redis, WeasyPrint runs in the worker, and sending has the worker
email the stored PDF to the loopback SMTP server. (Every other billing test runs
tasks eagerly.)"""

import subprocess
import time

import pytest

from billing import services
from core import documents

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for_document(invoice, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        document = documents.document_for(invoice, services.INVOICE_DOCUMENT)
        if document is not None and document.status in (document.Status.READY, document.Status.FAILED):
            return document
        time.sleep(0.2)
    pytest.fail(f"the worker did not render the invoice in {seconds} s")


def test_a_real_worker_renders_the_issued_invoice_and_mails_it(celery_worker_process, rep, clerk, won_deal, customer):
    inbox = celery_worker_process
    inbox.clear()
    draft = services.invoice_opportunity(opportunity=won_deal, by=rep)

    invoice = services.issue_invoice(invoice=draft, by=clerk)
    document = wait_for_document(invoice)
    assert document.status == document.Status.READY, document.error
    assert documents.document_pdf_bytes(document).startswith(b"%PDF")

    services.send_invoice(invoice=invoice, by=clerk)
    (message,) = inbox.wait_for(1, timeout=60)
    assert message["X-Envelope-To"] == customer.email
    assert invoice.number in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=attachment.get_content(), capture_output=True, check=True
    ).stdout.decode()
    assert invoice.number in text and customer.billing_name in text
    document.refresh_from_db()
    assert document.attempts == 1  # rendered once, by the worker; the email reused it
