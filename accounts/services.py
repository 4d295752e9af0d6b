"""Operations on users' API tokens and preferences, and the limit on password-reset mail."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core import formats
from core.ratelimit import hit

from .models import ApiToken, User
from .signals import forget

PASSWORD_RESET_WINDOW = 60 * 60  # the limits are per hour


@transaction.atomic
def create_api_token(*, user: User, name: str, scope: str = ApiToken.Scope.READ) -> tuple[ApiToken, str]:
    """Create a token and return it with its key; the key is never retrievable again."""
    if scope not in ApiToken.Scope.values:
        raise ValueError(f"Unknown scope {scope!r}; use one of {', '.join(ApiToken.Scope.values)}.")
    name = name.strip()
    if not name:
        raise ValueError("A token needs a name.")
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        user=user, name=name, scope=scope, prefix=key[4:12], key_hash=ApiToken.hash_key(key)
    )
    forget([user.pk])  # holding a token makes the user an integrator (User.is_integrator)
    return token, key


def revoke_api_token(*, token: ApiToken) -> bool:
    """Revoke a token; returns False when it was already revoked (safe to repeat)."""
    revoked = bool(ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))
    if revoked:
        forget([token.user_id])  # it may have been the user's last active token
    return revoked


def count_password_reset_request(*, email: str, client: str | None) -> bool:
    """Count a request for a password-reset mail; False once the address or the
    client asked too often this hour (then no mail is sent).

    Both counters move on every request, so asking for many addresses from one
    client, or for one address from many clients, reaches a limit either way.
    """
    per_email = hit(
        "password-reset-email",
        email.strip().casefold(),
        limit=settings.PASSWORD_RESET_LIMIT_PER_EMAIL,
        window=PASSWORD_RESET_WINDOW,
    )
    per_client = hit(
        "password-reset-client",
        client or "unknown",
        limit=settings.PASSWORD_RESET_LIMIT_PER_CLIENT,
        window=PASSWORD_RESET_WINDOW,
    )
    return per_email and per_client


def preference_errors(*, locale: str, time_zone: str) -> dict[str, str]:
    """What is wrong with a format and time zone, by field ({} when both are fine):
    the one rule for the preferences page and the user admin."""
    errors = {}
    if locale and formats.offered_locale(locale) != locale:
        errors["locale"] = f"Unknown format {locale!r}; use one of {', '.join(settings.FORMAT_LOCALES)}."
    if time_zone and not formats.valid_time_zone(time_zone):
        errors["time_zone"] = f"Unknown time zone {time_zone!r}."
    return errors


def update_preferences(
    *, user: User, by: User, locale: str, time_zone: str, email_notifications: bool | None = None
) -> User:
    """Set how dates and numbers read for `user` (a FORMAT_LOCALES id, "" for the
    browser's), their clock (an IANA zone, "" for the company's) and whether
    notifications also come by email (unchanged when None).

    People set their own; an administrator changes someone else's in the admin.
    Unknown values are refused here too, not only by the form, so the API or a
    command cannot store one either.
    """
    if by.pk != user.pk:
        raise PermissionDenied("People change only their own preferences.")
    errors = preference_errors(locale=locale, time_zone=time_zone)
    if errors:
        raise ValueError(next(iter(errors.values())))
    user.locale, user.time_zone = locale, time_zone
    fields = ["locale", "time_zone"]
    if email_notifications is not None:
        user.email_notifications = email_notifications
        fields.append("email_notifications")
    user.save(update_fields=fields)
    return user
