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


# --- recurring billing (billing.plans) ---
from . import plans  # noqa: E402


@shared_task(time_limit=plans.RUN_TIME_LIMIT, soft_time_limit=plans.RUN_TIME_LIMIT - 60)
def run_billing_task(run_id: int) -> str | None:
    """Run a billing run (billing.plans.execute_run). Safe to run twice: it claims the
    run (pending → running) first; a run claimed, done or failed is left alone."""
    return plans.execute_run(run_id)


@shared_task
def billing_daily() -> int | None:
    """The Celery beat's daily run: a billing run as of today, handed to
    run_billing_task; none while another run is under way."""
    run = plans.start_daily_run()
    return run.pk if run else None
