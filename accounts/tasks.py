from celery import shared_task
from django.core import management
from django.core.mail import EmailMultiAlternatives


@shared_task
def send_email(*, subject: str, body: str, to: list[str], html: str | None = None, from_email: str | None = None):
    """Send one email from a worker (password resets, later invoices).

    Sending twice only repeats a message, so this is safe to retry.
    """
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


@shared_task
def clear_expired_sessions():
    management.call_command("clearsessions")
