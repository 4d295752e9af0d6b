from smtplib import SMTPException

from celery import shared_task

from . import notifications


# A failed send is released (emailed_at back to empty) and the whole batch retried with
# backoff: what was sent already is claimed, so each is still sent once.
@shared_task(autoretry_for=(OSError, SMTPException), retry_backoff=60, retry_jitter=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]):
    """Email these notifications to their people. Each is claimed before it is sent,
    so running the task twice (a retry, a duplicate) sends each once."""
    for notification_id in notification_ids:
        notifications.email_notification(notification_id)
