from smtplib import SMTPException

from celery import shared_task

from core.documents import DocumentNotReady

from . import quotes


# Retried with backoff while another worker renders the PDF, or when the mail server
# fails; core.mail.send_once makes each send one email, whatever the retries.
@shared_task(
    autoretry_for=(OSError, SMTPException, DocumentNotReady), retry_backoff=5, retry_jitter=True, max_retries=6
)
def send_quote_email(quote_id: int, to: str, key: str) -> bool:
    """Email a sent quote's PDF (crm.quotes.email_quote). Safe to run twice."""
    return quotes.email_quote(quote_id=quote_id, to=to, key=key)
