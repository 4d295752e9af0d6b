"""How django-axes names the person a failed sign-in was for."""

from axes.models import AccessAttempt
from django.conf import settings

USERNAME_MAX_LENGTH = AccessAttempt._meta.get_field("username").max_length


def attempted_username(request, credentials: dict | None = None) -> str | None:
    """The username typed, cut to what axes can store: a sign-in form does not limit
    its length, and a longer one would fail to save (a 500 on PostgreSQL) instead of
    counting as the failed attempt it is. No real username is that long."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = (credentials or getattr(request, "data", request.POST)).get(field)
    return username[:USERNAME_MAX_LENGTH] if isinstance(username, str) else username
