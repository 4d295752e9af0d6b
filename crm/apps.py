from django.apps import AppConfig


class CrmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"

    def ready(self):
        from collaboration import registry as feed
        from core import search as global_search
        from core.cache import track_changes

        from .models import Customer
        from .search import CONTACTS, CUSTOMERS

        # Customers have a feed; whoever may see the customer sees it.
        feed.register_record(Customer, visible=lambda user: Customer.objects.visible_to(user))
        feed.register_event("customer.created", "Created the customer")

        # The customer list's summary (count, credit totals) is cached per filter until a customer changes.
        track_changes(Customer)
        global_search.register(CUSTOMERS)
        global_search.register(CONTACTS)
