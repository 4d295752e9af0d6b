from django.apps import AppConfig


class ReceivablesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "receivables"

    def ready(self):
        from accounts.roles import FINANCE_MANAGER
        from billing.models import Invoice
        from billing.services import register_ledger_hook
        from collaboration import registry as feed

        from .models import CreditHold, Payment, WriteOff
        from .services import WRITE_OFF_APPROVAL, decide_write_off, ledger_changed

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
            "payment.received", "Received payment {number} of {amount} {currency} ({method}); applied to {applied}"
        )
        feed.register_event("payment.allocated", "Applied payment {number} to {applied}; {unapplied} left unapplied")
        feed.register_event("payment.unallocated", "Took {taken} of payment {number} back from invoice {invoice}")
        feed.register_event("payment.voided", "Voided payment {number} ({amount} {currency}): {reason}")
        feed.register_event("invoice.written_off", "Wrote off {amount} {currency} on invoice {number}: {reason}")
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
