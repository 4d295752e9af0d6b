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


# --- payment behaviour ---
@shared_task
def refresh_behaviour(customer_id: int) -> None:
    """Measure a customer's payment behaviour again after its ledger changed
    (receivables.services.ledger_changed queues it). Safe to run twice."""
    from . import services

    services.refresh_behaviour(customer_id)


# --- dunning ---
# Thin: each takes ids and calls receivables.dunning, which makes them safe to run twice
# (notices unique per run and customer, levels per invoice, sending claimed and keyed).
@shared_task
def dunning_plan(run_id: int) -> int:
    """Plan a run that was just started (or resumed) and fan its customers out in batches."""
    from . import dunning

    return dunning.plan_run(run_id=run_id)


@shared_task
def dunning_batch(run_id: int, customer_ids: list[int]) -> int:
    """Make the notices of a batch of a run's customers and queue their sending."""
    from . import dunning

    return len(dunning.make_notices(run_id=run_id, customer_ids=customer_ids))


@shared_task
def send_dunning_notices(notice_ids: list[int]) -> int:
    """Send a batch's notices over one SMTP connection (receivables.dunning.send_notices);
    one that fails goes on alone, as send_dunning_notice, with retries."""
    from . import dunning

    return dunning.send_notices(notice_ids=notice_ids)


@shared_task(
    autoretry_for=(OSError, SMTPException, DocumentNotReady),
    retry_backoff=5,
    retry_jitter=True,
    max_retries=6,
)
def send_dunning_notice(notice_id: int) -> bool:
    """Send one notice (receivables.dunning.send_notice): once, whatever the retries."""
    from . import dunning

    return dunning.send_notice(notice_id=notice_id)


@shared_task
def run_daily_dunning() -> int | None:
    """The beat's daily run as of today, unless one is running; the run's id."""
    from . import dunning

    try:
        return dunning.start_run(as_of=timezone.localdate(), by=None).pk
    except dunning.DunningConflict:
        return None  # yesterday's run is still going: today's waits for tomorrow


@shared_task
def evaluate_payment_promises() -> dict:
    """The beat's daily check of promises to pay: kept or broken (dunning.evaluate_promises)."""
    from . import dunning

    return dunning.evaluate_promises(as_of=timezone.localdate())
