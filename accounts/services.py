"""Operations on users' API tokens."""

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, User


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
    return token, key


def revoke_api_token(*, token: ApiToken) -> bool:
    """Revoke a token; returns False when it was already revoked (safe to repeat)."""
    return bool(ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))
