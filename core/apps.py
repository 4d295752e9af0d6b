from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kit at the bottom of Concord: it imports no Concord app, and every
    app may import it (API base classes, tables, money and badge formatting, error
    pages)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"

    def ready(self):
        # drf-spectacular finds schema extensions by import.
        from core.api import schema  # noqa: F401
