from django.apps import AppConfig


class CrmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"

    def ready(self):
        from accounts.roles import FINANCE_MANAGER
        from collaboration import registry as feed
        from core import search as global_search
        from core.cache import track_changes

        from .models import Customer, Lead, Opportunity, Quote, ServiceCase
        from .search import CONTACTS, CUSTOMERS
        from .services import credit_exception_decided

        # Customers have a feed; whoever may see the customer sees it.
        feed.register_record(Customer, visible=lambda user: Customer.objects.visible_to(user))
        feed.register_event("customer.created", "Created the customer")
        # Every role reads all of the CRM, so each record's feed is visible to whoever may read it.
        feed.register_record(Lead, visible=lambda user: Lead.objects.visible_to(user))
        feed.register_record(Opportunity, visible=lambda user: Opportunity.objects.visible_to(user), noun="deal")
        feed.register_record(
            Quote, visible=lambda user: Quote.objects.all() if user.has_perm("crm.view_quote") else Quote.objects.none()
        )
        feed.register_record(ServiceCase, visible=lambda user: ServiceCase.objects.visible_to(user))
        feed.register_event("opportunity.created", "Created the deal")
        feed.register_event("opportunity.won", "Won the deal ({amount})")
        feed.register_event("opportunity.lost", "Lost the deal: {reason}")
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

        # --- leads and service cases ---
        feed.register_event("lead.created", "Created the lead (source: {source})")
        feed.register_event("lead.disqualified", "Disqualified the lead: {reason}")
        feed.register_event("lead.converted", "Converted the lead into {customer}")
        feed.register_event("case.opened", "Opened the case “{subject}” ({severity})")
        feed.register_event("case.resolved", "Resolved the case “{subject}”")
        feed.register_event("case.reopened", "Reopened the case “{subject}”")

        # --- quotes (quotes helper) ---
        from core import documents

        from . import quotes
        from .permissions import can_quote

        feed.register_event("quote.created", "Made quote {number} ({total})")
        feed.register_event("quote.sent", "Sent quote {number} to {to}")
        feed.register_event("quote.revised", "Made version {revision} of the quote: {number} supersedes {supersedes}")
        feed.register_event("quote.accepted", "Quote {number} accepted ({total})")
        feed.register_event("quote.declined", "Quote {number} declined: {reason}")
        documents.register(
            quotes.QUOTE_DOCUMENT,
            template="crm/documents/quote.html",
            context=quotes.document_context,
            filename=lambda quote: f"{quote.number}.pdf",
            can_view=lambda user, quote: user.has_perm("crm.view_quote"),
            can_retry=lambda user, quote: can_quote(user, quote.opportunity),
        )

        # --- customer 360 and global search (issue 8) ---
        from .search import LEADS, OPPORTUNITIES
        from .views.customer_panels import register_customer_panels

        global_search.register(LEADS)
        global_search.register(OPPORTUNITIES)
        register_customer_panels()
