from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"

    def ready(self):
        from collaboration import registry as feed
        from core import documents
        from core.cache import track_changes

        from . import documents as pdfs
        from .models import BillingPlan, CreditNote, Invoice
        from .permissions import can_issue, can_view_invoices
        from .services import CREDIT_NOTE_DOCUMENT, INVOICE_DOCUMENT

        # The invoice list's summary (count, totals) is cached per filter until an invoice changes.
        track_changes(Invoice)

        # Every role reads invoices, so whoever may read them sees their feeds.
        def visible(model):
            return lambda user: model.objects.all() if can_view_invoices(user) else model.objects.none()

        feed.register_record(Invoice, visible=visible(Invoice))
        feed.register_record(CreditNote, visible=visible(CreditNote))
        feed.register_record(BillingPlan, visible=visible(BillingPlan))
        feed.register_event("invoice.drafted", "Drafted an invoice of {deal} ({total})")
        feed.register_event("invoice.issued", "Issued invoice {number} ({total}), due {due}")
        feed.register_event("invoice.sent", "Sent invoice {number} to {to}")
        feed.register_event("invoice.voided", "Voided invoice {number}: {reason}")
        feed.register_event("credit_note.issued", "Credit note {number} on {invoice} ({total}): {reason}")
        # --- recurring billing (billing.plans) ---
        feed.register_event("invoice.recurring", "Invoiced {plan} for {period} ({total})")
        feed.register_event("billing_plan.created", "Started the billing plan {name}: {interval} from {start}")
        feed.register_event("billing_plan.stopped", "Stopped the billing plan {name}")
        feed.register_event("billing_plan.activated", "Activated the billing plan {name}; next invoice {next}")

        documents.register(
            INVOICE_DOCUMENT,
            template="billing/documents/invoice.html",
            context=pdfs.invoice_context,
            filename=lambda invoice: f"{invoice.number}.pdf",
            can_view=lambda user, invoice: can_view_invoices(user),
            can_retry=lambda user, invoice: can_issue(user),
        )
        documents.register(
            CREDIT_NOTE_DOCUMENT,
            template="billing/documents/credit_note.html",
            context=pdfs.credit_note_context,
            filename=lambda note: f"{note.number}.pdf",
            can_view=lambda user, note: can_view_invoices(user),
            can_retry=lambda user, note: can_issue(user),
        )

        # --- billing pages: the customer 360's invoices, the won deal's invoicing, global search ---
        from core import search as global_search
        from crm import panels

        from .panels import CUSTOMER_PANEL, DEAL_PANEL, INVOICES

        panels.register_panel(CUSTOMER_PANEL)
        panels.register_deal_panel(DEAL_PANEL)
        global_search.register(INVOICES)
