from django.apps import AppConfig


class ReceivablesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "receivables"

    def ready(self):
        from accounts.roles import FINANCE_MANAGER
        from billing.models import Invoice
        from billing.services import register_ledger_hook
        from collaboration import registry as feed
        from core.cache import track_changes

        from .models import CreditHold, Payment, WriteOff
        from .services import WRITE_OFF_APPROVAL, decide_write_off, ledger_changed

        # The payment list's summary (count, totals) is cached per filter until a payment changes.
        track_changes(Payment)
        feed.register_record(Payment, visible=lambda user: Payment.objects.visible_to(user))
        feed.register_record(
            WriteOff,
            visible=lambda user: (
                WriteOff.objects.all() if user.has_perm("billing.view_invoice") else WriteOff.objects.none()
            ),
        )
        feed.register_record(
            CreditHold,
            visible=lambda user: (
                CreditHold.objects.all() if user.has_perm("crm.view_customer") else CreditHold.objects.none()
            ),
        )
        feed.register_event(
            "payment.received", "Received payment {number} of {amount} ({method}); applied to {applied}"
        )
        feed.register_event(
            "payment.allocated", "Applied payment {number} to {applied}; {unapplied} {currency} left unapplied"
        )
        feed.register_event(
            "payment.unallocated", "Took {taken} {currency} of payment {number} back from invoice {invoice}"
        )
        feed.register_event("payment.voided", "Voided payment {number} ({amount}): {reason}")
        feed.register_event("invoice.written_off", "Wrote off {amount} on invoice {number}: {reason}")
        feed.register_approval_kind(
            feed.ApprovalKind(
                key=WRITE_OFF_APPROVAL,
                label="Write off a small balance",
                model=Invoice,
                approver_groups=(FINANCE_MANAGER,),
                approver_permission="receivables.approve_writeoff",
                on_decided=decide_write_off,
                description="A remaining balance below the write-off limit is cleared once a finance manager agrees.",
            )
        )
        # An invoice issued, credited or voided changes how its customer pays.
        register_ledger_hook(lambda invoice: ledger_changed(invoice.customer_id))

        # --- credit control (holds, the payment-risk card, the 360's receivables panel) ---
        from accounts.roles import SALES_MANAGER
        from billing.panels import register_invoice_panel
        from billing.services import register_issue_check
        from crm import panels as crm_panels
        from crm.models import Opportunity
        from crm.opportunities import register_win_check

        from . import credit
        from . import panels as receivables_panels

        feed.register_event("credit_hold.set", "Put the customer on credit hold until {until}: {reason}")
        feed.register_event("credit_hold.released", "Released the credit hold ({reason})")
        feed.register_event(
            "credit_hold.passed", "Let through the credit hold once to {action}, approved by {approver}"
        )
        for key, label, model, description in (
            (
                credit.WIN_APPROVAL,
                "Win a deal despite the credit hold",
                Opportunity,
                "The customer is on credit hold: a sales or finance manager's yes lets this deal be won once.",
            ),
            (
                credit.ISSUE_APPROVAL,
                "Issue an invoice despite the credit hold",
                Invoice,
                "The customer is on credit hold: a sales or finance manager's yes lets this invoice be issued once.",
            ),
        ):
            feed.register_approval_kind(
                feed.ApprovalKind(
                    key=key,
                    label=label,
                    model=model,
                    approver_groups=(SALES_MANAGER, FINANCE_MANAGER),
                    description=description,
                )
            )
        register_win_check(credit.check_win)
        register_issue_check(credit.check_issue)
        crm_panels.register_panel(receivables_panels.CUSTOMER_PANEL)
        crm_panels.register_badge("credit_hold", receivables_panels.credit_hold_badges)
        crm_panels.register_deal_panel(receivables_panels.DEAL_PANEL)
        crm_panels.register_quote_panel(receivables_panels.QUOTE_PANEL)
        register_invoice_panel(receivables_panels.INVOICE_PANEL)

        # --- statements ---
        from core import documents
        from crm import panels as crm_panels

        from . import statement_panels, statements
        from .permissions import can_view_standing

        documents.register(
            statements.STATEMENT_DOCUMENT,
            template="receivables/documents/statement.html",
            context=statements.document_context,
            filename=statements.document_filename,
            can_view=lambda user, statement: can_view_standing(user, statement.customer),
        )
        feed.register_event("statement.sent", "Sent the statement of open items as of {as_of} to {to}")
        feed.register_event("statement.monthly_on", "Turned on the monthly statement")
        feed.register_event("statement.monthly_off", "Turned off the monthly statement")
        crm_panels.register_panel(statement_panels.CUSTOMER_PANEL)

        # --- payments: pages, the invoice page's Payments panel, global search ---
        from core import search as global_search

        from .payment_panels import INVOICE_PANEL, PAYMENTS

        register_invoice_panel(INVOICE_PANEL)
        global_search.register(PAYMENTS)

        # --- dunning ---
        from . import dunning
        from .models import CollectionTask, Dispute, DunningHold, DunningNotice, PaymentPromise

        def _finance_or_owner(model, path="customer__owner"):
            def visible(user):
                if user.has_perm("receivables.view_payment"):
                    return model.objects.all()
                if user.has_perm(f"receivables.view_{model._meta.model_name}"):
                    return model.objects.filter(**{path: user})
                return model.objects.none()

            return visible

        feed.register_record(Dispute, visible=_finance_or_owner(Dispute, "invoice__customer__owner"))
        feed.register_record(PaymentPromise, visible=_finance_or_owner(PaymentPromise), noun="promise to pay")
        feed.register_record(DunningHold, visible=_finance_or_owner(DunningHold))
        feed.register_record(CollectionTask, visible=_finance_or_owner(CollectionTask), noun="collection call")
        feed.register_record(DunningNotice, visible=_finance_or_owner(DunningNotice))
        feed.register_event("dunning.notice_sent", "Sent the {level} ({channel}) for {invoices}")
        feed.register_event("dunning.task_created", "Asked the account owner to call about the {level} by {due}")
        feed.register_event("dunning.task_done", "Logged the collection call: {outcome}. {note}")
        feed.register_event("dunning.call_logged", "Logged a call with the customer: {outcome}. {note}")
        feed.register_event("dunning_hold.set", "Held dunning{invoice} until {until}: {reason}")
        feed.register_event("dunning_hold.released", "Released the dunning hold ({reason}); reminders resume")
        feed.register_event("dispute.opened", "Opened a dispute of {amount} {currency} on invoice {number}: {reason}")
        feed.register_event(
            "dispute.resolved", "Resolved the dispute on invoice {number}: {outcome} {credit_note} {note}"
        )
        feed.register_event("promise.taken", "Took a promise to pay {amount} {currency}{invoice} by {by}")
        feed.register_event("promise.kept", "The promise to pay {amount} {currency}{invoice} by {by} was kept")
        feed.register_event(
            "promise.broken",
            "The promise to pay {amount} {currency}{invoice} by {by} was broken: dunning resumes",
        )
        feed.register_event("promise.cancelled", "Cancelled the promise to pay {amount}: dunning resumes")
        documents.register(
            dunning.LETTER_DOCUMENT,
            template="receivables/documents/dunning_letter.html",
            context=dunning.document_context,
            filename=dunning.document_filename,
            can_view=lambda user, notice: can_view_standing(user, notice.customer),
        )
        from . import dunning_panels

        crm_panels.register_panel(dunning_panels.CUSTOMER_PANEL)
