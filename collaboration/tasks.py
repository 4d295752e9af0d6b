from celery import shared_task

from . import notifications


@shared_task
def send_notification_emails(notification_ids: list[int]):
    """Email these notifications to their people. Each is claimed before it is sent,
    so running the task twice (a retry, a duplicate) sends each once."""
    for notification_id in notification_ids:
        notifications.email_notification(notification_id)
