"""Invoices, credit notes and recurring billing plans, on the customer master and the
CRM's catalog and deals.

An invoice is a draft (no number, lines editable) until billing.services.issue_invoice
gives it the next number of its series and year and makes it immutable; from then on
its amounts change only through credit notes (amount_credited) and, in receivables,
payments allocated to it (amount_paid). The balance due is always
total − credited − paid, held by a database constraint, never recomputed by a job.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.urls import reverse

from core.currencies import currency_choices
from core.validators import no_bidi_controls
from crm.models import Customer, DocumentLine, Opportunity, PaymentTerms, TaxRate, terms_label

ZERO = Decimal("0.00")


def _money(**kwargs):
    return models.DecimalField(max_digits=14, decimal_places=2, default=ZERO, **kwargs)


class InvoiceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Every role reads every invoice (reps see what their customers were billed)."""
        if user.is_authenticated and user.has_perm("billing.view_invoice"):
            return self
        return self.none()

    def issued(self):
        """Invoices with a number that count: issued, partially paid or paid (not drafts, not void)."""
        return self.filter(status__in=Invoice.OPEN_OR_SETTLED)

    def open(self):
        """Issued invoices with something still to pay."""
        return self.filter(status__in=(Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID))

    def owed(self):
        """Open invoices with something left to pay: what the index billing_inv_owed
        covers, so sums per customer over them read the index alone."""
        return self.open().filter(balance_due__gt=0)

    def overdue(self, on):
        return self.open().filter(due_date__lt=on)


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    OPEN_OR_SETTLED = (Status.ISSUED, Status.PARTIALLY_PAID, Status.PAID)
    STATUS_BADGES = {
        Status.DRAFT: "secondary",
        Status.ISSUED: "primary",
        Status.PARTIALLY_PAID: "warning",
        Status.PAID: "success",
        Status.VOID: "dark",
    }

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    # INV-<year>-<seq>, given by issue_invoice; empty (NULL) while draft.
    number = models.CharField(max_length=30, null=True, blank=True, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False)
    issue_date = models.DateField(null=True, blank=True, editable=False)
    due_date = models.DateField(null=True, blank=True, editable=False)
    currency = models.CharField(max_length=3, choices=currency_choices, editable=False)
    payment_terms = models.CharField(max_length=3, choices=PaymentTerms.choices, default=PaymentTerms.NET)
    payment_days = models.PositiveSmallIntegerField(default=30)
    notes = models.TextField(blank=True, help_text="Printed under the lines.")

    # Where it came from: a won deal ("Invoice this deal") or a billing plan's period.
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices", editable=False
    )
    billing_plan = models.ForeignKey(
        "BillingPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices", editable=False
    )
    period_start = models.DateField(null=True, blank=True, editable=False)

    # Money, in the invoice's currency; kept by billing.services (and receivables for paid).
    subtotal = _money(editable=False)
    tax_total = _money(editable=False)
    total = _money(editable=False)
    amount_credited = _money(editable=False)
    amount_paid = _money(editable=False)
    balance_due = _money(editable=False)

    # Who it is billed to, as it was on the day it was issued (the customer may move later).
    billing_name = models.CharField(max_length=200, blank=True, editable=False)
    billing_address = models.TextField(blank=True, editable=False)
    billing_tax_id = models.CharField(max_length=40, blank=True, editable=False)

    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_to = models.EmailField(blank=True, editable=False)
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    void_reason = models.CharField(max_length=200, blank=True, editable=False)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = InvoiceQuerySet.as_manager()

    feed_parents = ("customer",)

    class Meta:
        ordering = ["-issue_date", "-id"]
        permissions = [
            ("issue_invoice", "Can issue invoices"),
            ("send_invoice", "Can send invoices"),
            ("void_invoice", "Can void invoices"),
            ("invoice_own_deal", "Can draft an invoice from their own won deals"),
        ]
        constraints = [
            models.CheckConstraint(
                # Rounded: SQLite computes with floats; PostgreSQL's numeric is exact anyway.
                condition=Q(balance_due=Round(F("total") - F("amount_credited") - F("amount_paid"), 2)),
                name="billing_invoice_balance_is_total_less_credited_and_paid",
            ),
            models.CheckConstraint(
                condition=Q(balance_due__gte=0, amount_paid__gte=0, amount_credited__gte=0),
                name="billing_invoice_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False, issue_date__isnull=False, due_date__isnull=False),
                name="billing_invoice_issued_has_number_and_dates",
            ),
            models.CheckConstraint(
                condition=~Q(status="draft") | Q(number__isnull=True), name="billing_invoice_draft_has_no_number"
            ),
            models.UniqueConstraint(
                fields=["billing_plan", "period_start"],
                condition=Q(billing_plan__isnull=False),
                name="billing_invoice_one_per_plan_period",
                violation_error_message="This plan's period is invoiced already.",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status", "due_date"], name="billing_inv_customer_status"),
            models.Index(fields=["status", "due_date", "id"], name="billing_inv_status_due"),
            models.Index(fields=["-issue_date", "-id"], name="billing_inv_issued_desc"),
            # What each customer owes, by due day (InvoiceQuerySet.owed): the worklist sums
            # what is overdue per customer, and the credit figures of the 360 and the
            # worklist theirs, from this index alone (100k invoices: 26 ms, not 90); with the
            # id, the worklist's next levels join them to the levels sent without the table.
            models.Index(
                fields=["customer", "due_date"],
                include=["balance_due", "currency", "id"],
                condition=Q(status__in=("issued", "partially_paid"), balance_due__gt=0),
                name="billing_inv_owed",
            ),
        ]

    def __str__(self):
        return self.number or f"Draft invoice {self.pk}"

    def get_absolute_url(self):
        return reverse("billing:invoice_detail", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def terms_label(self) -> str:
        return terms_label(self.payment_terms, self.payment_days)


class InvoiceLine(DocumentLine):
    """A line of an invoice. The tax rate's name and percentage are copied when the
    invoice is issued (tax_name, tax_percent), so a later change to the rate never
    changes an issued invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tax_name = models.CharField(max_length=60, blank=True)
    tax_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    tax_amount = _money()

    class Meta(DocumentLine.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="billing_invline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="billing_invline_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="billing_invline_discount_0_100"
            ),
        ]

    def __str__(self):
        return self.description


class CreditNote(models.Model):
    """A correction of an issued invoice: numbered CN-<year>-<seq> when made, never
    more than the invoice's balance due, which it reduces."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes", editable=False)
    number = models.CharField(max_length=30, unique=True, editable=False)
    issue_date = models.DateField(editable=False)
    currency = models.CharField(max_length=3, choices=currency_choices, editable=False)
    reason = models.CharField(max_length=300, validators=[no_bidi_controls])
    subtotal = _money(editable=False)
    tax_total = _money(editable=False)
    total = _money(editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    feed_parents = ("invoice", "customer")

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = "credit note"
        constraints = [models.CheckConstraint(condition=Q(total__gt=0), name="billing_creditnote_total_positive")]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("billing:credit_note_detail", args=[self.pk])


class CreditNoteLine(DocumentLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tax_name = models.CharField(max_length=60, blank=True)
    tax_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    tax_amount = _money()

    class Meta(DocumentLine.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="billing_cnline_quantity_positive"),
        ]

    def __str__(self):
        return self.description


class BillingPlan(models.Model):
    """A customer billed the same lines every month, quarter or year: run_billing makes
    the invoice of each period that has come, once (one invoice per plan and period)."""

    class Interval(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        YEARLY = "yearly", "Yearly"

    MONTHS = {Interval.MONTHLY: 1, Interval.QUARTERLY: 3, Interval.YEARLY: 12}

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="billing_plans")
    name = models.CharField(max_length=200, validators=[no_bidi_controls])
    interval = models.CharField(max_length=10, choices=Interval.choices, default=Interval.MONTHLY)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty: until stopped.")
    next_invoice_date = models.DateField(editable=False)
    auto_issue = models.BooleanField(default=True, help_text="Issue the invoices as they are made.")
    auto_send = models.BooleanField(default=False, help_text="Email them once issued.")
    is_active = models.BooleanField("active", default=True)
    currency = models.CharField(max_length=3, choices=currency_choices, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    feed_parents = ("customer",)

    class Meta:
        ordering = ["customer__name", "name", "id"]
        verbose_name = "billing plan"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="billing_plan_ends_after_start",
            )
        ]
        indexes = [models.Index(fields=["is_active", "next_invoice_date"], name="billing_plan_due")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("billing:plan_detail", args=[self.pk])


class BillingPlanLine(DocumentLine):
    plan = models.ForeignKey(BillingPlan, on_delete=models.CASCADE, related_name="lines")
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta(DocumentLine.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="billing_planline_quantity_positive"),
        ]

    def __str__(self):
        return self.description


class BillingRun(models.Model):
    """One run of run_billing(as_of): started by beat or a person, with its progress
    and summary for the page's progress bar."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    plans_total = models.PositiveIntegerField(default=0)
    plans_done = models.PositiveIntegerField(default=0)
    invoices_created = models.PositiveIntegerField(default=0)
    invoices_issued = models.PositiveIntegerField(default=0)
    invoices_sent = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=list, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "billing run"

    def __str__(self):
        return f"Billing run {self.pk} as of {self.as_of}"

    def get_absolute_url(self):
        return reverse("billing:run_detail", args=[self.pk])

    @property
    def percent_done(self) -> int:
        return 100 if not self.plans_total else min(100, self.plans_done * 100 // self.plans_total)
