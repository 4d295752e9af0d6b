"""Emails sent once: a task that sends mail may run twice (a duplicate delivery, a
retry after a later step failed) and must not send twice.

    mail.send_once(key=f"quote-sent:{quote.pk}:{token}", message=EmailMessage(...))

The key is claimed by inserting a core.models.SentEmail row in the same transaction as
the send, committed once the server took the message: a second run waits for that row's
lock, then finds the row and sends nothing. A send that fails, or a process killed while
sending (SIGKILL, a lost worker), rolls the claim back, so a retry sends it. (Only a
process killed between the server's "accepted" and the commit can send twice: the
window is that one commit, not the whole SMTP conversation.)
"""

from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction

from .models import SentEmail


def send_once(*, key: str, message: EmailMessage) -> bool:
    """Send `message` unless a message was sent under `key` already; True if sent now.
    A connection given with the message (`EmailMessage(connection=…)`, opened by the
    caller for a batch) stays open for the next message; one made here is closed."""
    own = message.connection is None
    connection = message.connection or get_connection()
    try:
        with transaction.atomic():
            SentEmail.objects.create(key=key, to=", ".join(message.to)[:500], subject=message.subject[:300])
            connection.open()
            connection.send_messages([message])  # an error rolls the claim back with it
        # Committed as soon as the server took the message; the goodbye (QUIT) comes after.
    except IntegrityError:
        return False
    finally:
        if own:
            connection.close()
    return True


def was_sent(key: str) -> bool:
    return SentEmail.objects.filter(key=key).exists()
