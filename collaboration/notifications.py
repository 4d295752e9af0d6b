"""Emailing a notification: to a Concord user's own address only, once."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Notification

logger = logging.getLogger(__name__)


def email_notification(notification_id: int) -> bool:
    """Send one notification's email; False when it was sent already, was read
    meanwhile, or its person turned email off. A failed send is released for the
    task's retry."""
    with transaction.atomic():
        # The claim: only one run moves emailed_at from empty to now.
        claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
    if not claimed:
        return False
    notification = Notification.objects.select_related("user", "actor", "item").get(pk=notification_id)
    user = notification.user
    if not (user.is_active and user.email and user.email_notifications):
        return False
    context = {
        "notification": notification,
        "user": user,
        "link": settings.SITE_URL.rstrip("/") + notification.url,
        "preferences": settings.SITE_URL.rstrip("/") + "/account/preferences/",
        "company": settings.COMPANY_NAME,
    }
    message = EmailMultiAlternatives(
        subject=f"[Concord] {notification.text}",
        body=render_to_string("collaboration/email/notification.txt", context),
        to=[user.email],
    )
    try:
        message.send()
    except Exception:
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        logger.exception("Could not email notification %s", notification_id)
        raise
    return True
