from django.apps import AppConfig


class CrmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"

    def ready(self):
        from accounts.roles import FINANCE_MANAGER
        from collaboration import registry as feed
        from core import search as global_search
        from core.cache import track_changes

        from .models import Customer
        from .search import CONTACTS, CUSTOMERS
        from .services import credit_exception_decided

        # Customers have a feed; whoever may see the customer sees it.
        feed.register_record(Customer, visible=lambda user: Customer.objects.visible_to(user))
        feed.register_event("customer.created", "Created the customer")
        feed.register_approval_kind(
            feed.ApprovalKind(
                key="crm.credit_limit_exception",
                label="Sell above the credit limit",
                model=Customer,
                approver_groups=(FINANCE_MANAGER,),
                on_decided=credit_exception_decided,
                description="A sale that takes the customer over its credit limit needs a finance manager's yes.",
            )
        )

        # The customer list's summary (count, credit totals) is cached per filter until a customer changes.
        track_changes(Customer)
        global_search.register(CUSTOMERS)
        global_search.register(CONTACTS)
