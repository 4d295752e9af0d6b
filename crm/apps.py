from django.apps import AppConfig


class CrmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"

    def ready(self):
        from core.cache import track_changes

        from .models import Customer

        # The customer list's summary (count, credit totals) is cached per filter until a customer changes.
        track_changes(Customer)
