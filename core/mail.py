"""Emails sent once: a task that sends mail may run twice (a duplicate delivery, a
retry after a later step failed) and must not send twice.

    mail.send_once(key=f"quote-sent:{quote.pk}:{token}", message=EmailMessage(...))

The key is claimed by inserting a core.models.SentEmail row before the message goes
out; a second run finds the row and sends nothing. A send that fails releases the
claim, so the task's retry sends it. (A process killed between claim and send loses
that one email: once at most, never twice.)
"""

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction

from .models import SentEmail


def send_once(*, key: str, message: EmailMessage) -> bool:
    """Send `message` unless a message was sent under `key` already; True if sent now."""
    try:
        with transaction.atomic():
            claim = SentEmail.objects.create(key=key, to=", ".join(message.to)[:500], subject=message.subject[:300])
    except IntegrityError:
        return False
    try:
        message.send()
    except Exception:
        SentEmail.objects.filter(pk=claim.pk).delete()
        raise
    return True


def was_sent(key: str) -> bool:
    return SentEmail.objects.filter(key=key).exists()
