from smtplib import SMTPException

from celery import shared_task

from core.documents import DocumentNotReady

from . import services


# Retried with backoff while another worker renders the PDF, or when the mail server
# fails; core.mail.send_once makes each send one email, whatever the retries.
@shared_task(
    autoretry_for=(OSError, SMTPException, DocumentNotReady), retry_backoff=5, retry_jitter=True, max_retries=6
)
def send_invoice_email(invoice_id: int, to: str, key: str) -> bool:
    """Email an issued invoice's stored PDF (billing.services.email_invoice). Safe to run twice."""
    return services.email_invoice(invoice_id=invoice_id, to=to, key=key)
