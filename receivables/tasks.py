from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from core.documents import DocumentNotReady

from . import statements


# --- statements ---
# Retried with backoff while another worker renders the PDF, or when the mail server
# fails; core.mail.send_once makes each send one email, whatever the retries.
@shared_task(
    autoretry_for=(OSError, SMTPException, DocumentNotReady), retry_backoff=5, retry_jitter=True, max_retries=6
)
def send_statement_email(statement_id: int, to: str, key: str) -> bool:
    """Email a customer statement's stored PDF (receivables.statements.email_statement). Safe to run twice."""
    return statements.email_statement(statement_id=statement_id, to=to, key=key)


@shared_task
def send_monthly_statements() -> int:
    """The beat's job on the 1st: statements as of the previous month's last day to the
    customers who opted in. Safe to run twice (see statements.send_monthly_statements)."""
    return statements.send_monthly_statements(as_of=statements.last_month_end(timezone.localdate()))
