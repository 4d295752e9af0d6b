"""People who use Concord, and the API keys integrators act with."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils.functional import cached_property

from .roles import ADMIN, ROLES


class UserManager(DjangoUserManager):
    def in_roles(self, *roles: str):
        """Active users holding any of `roles` (names from accounts.roles)."""
        return self.filter(is_active=True, groups__name__in=roles).distinct()


class User(AbstractUser):
    """A person who signs in: a sales rep, a finance clerk, a manager or an admin.

    What they may do comes from their role, a Django group (see accounts.roles).
    """

    # How dates, numbers and money read for this person, and the clock they live by.
    # Blank means "not chosen": the browser's Accept-Language, then the company's
    # settings (COMPANY_LOCALE, TIME_ZONE). Choices: settings.FORMAT_LOCALES, zoneinfo.
    locale = models.CharField("language and format", max_length=16, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    # The optional columns each list shows for this person: {"crm.customer": ["city", "phone"]}.
    list_columns = models.JSONField(default=dict, blank=True)
    # Whether mentions and approval requests also arrive by email (they always show under the bell).
    email_notifications = models.BooleanField(
        "email me mentions and approval requests",
        default=True,
        help_text="They always show under the bell; this also sends them to your email address.",
    )

    objects = UserManager()

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self):
        return self.display_name(self.first_name, self.last_name, self.username)

    @staticmethod
    def display_name(first_name: str, last_name: str, username: str) -> str:
        """How people see a user: the full name, or the username when it is blank.
        A static method so lists reading `values()` rows name users the same way."""
        return f"{first_name} {last_name}".strip() or username

    @cached_property
    def role_names(self) -> list[str]:
        """The Concord roles held, in the order of accounts.roles.ROLES."""
        held = {group.name for group in self.groups.all()}
        return [role for role in ROLES if role in held]

    @property
    def role_label(self) -> str:
        if self.role_names:
            return ", ".join(self.role_names)
        return "Administrator" if self.is_superuser else "No role"

    def has_role(self, *roles: str) -> bool:
        return any(role in self.role_names for role in roles)

    @cached_property
    def is_integrator(self) -> bool:
        """Whether this person works with the REST API. There is no integrator role: admins
        and staff are integrators, and so is anyone holding an active API token. The shell
        lists API tokens and docs in their navigation; everyone else finds them in the
        user menu (under "Integrations"), out of the way of their daily work."""
        if self.is_staff or self.is_superuser or self.has_role(ADMIN):
            return True
        # Signed-in requests know it from the cached access (accounts.backends.load_access).
        known = getattr(self, "_holds_api_token", None)
        if known is not None:
            return known
        return self.api_tokens.active().exists()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def for_key(self, key: str):
        return self.active().select_related("user").filter(key_hash=ApiToken.hash_key(key))


class ApiToken(models.Model):
    """A key an integrator sends as `Authorization: Token <key>`.

    Only a SHA-256 hash of the key is stored; the key itself is shown once, when
    the token is created. A token acts as its owner, narrowed by its scope.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. “Accounting sync”.")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    # The first characters of the key, kept so a person can tell their keys apart.
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        return "cnc_" + secrets.token_urlsafe(32)

    @staticmethod
    def hash_key(key: str) -> str:
        # Keys are 256 random bits, so a fast hash is enough: nothing to brute-force.
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    # How stale last_used_at may get before a request writes it again.
    LAST_USED_RESOLUTION = timedelta(minutes=1)
