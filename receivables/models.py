"""The receivables ledger: payments, their allocations to invoices, write-offs, credit
holds, and what is known about how each customer pays.

- A Payment is money received from a customer. Its allocations spread it over the
  customer's invoices; what is not allocated is unapplied credit, usable later.
- An Allocation is never edited or deleted: unallocating or voiding the payment
  reverses it (reversed_on), so the ledger can be read as of any past date.
- Each invoice's amount_paid is the sum of its live allocations (plus write-offs),
  kept by receivables.services in the transaction that changes them, under row locks
  taken in one order (payment, then invoices by id) — never recomputed by a job.
- Database constraints hold what a single row can: amount > 0, 0 ≤ allocated ≤ amount,
  unapplied = amount − allocated (0 once void).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.urls import reverse

from billing.models import Invoice
from core.currencies import currency_choices
from core.validators import no_bidi_controls
from crm.models import Customer

ZERO = Decimal("0.00")


def _money(**kwargs):
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class PaymentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Finance reads every payment; sales people read their own customers' payments."""
        if not user.is_authenticated:
            return self.none()
        if user.has_perm("receivables.view_payment"):
            return self
        if user.has_perm("receivables.view_own_payment"):
            return self.filter(customer__owner=user)
        return self.none()

    def posted(self):
        return self.filter(status=Payment.Status.POSTED)

    def with_credit(self):
        """Posted payments with something left to allocate."""
        return self.posted().filter(unapplied__gt=0)


class Payment(models.Model):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CARD = "card", "Card"
        DIRECT_DEBIT = "direct_debit", "Direct debit"
        CHEQUE = "cheque", "Cheque"
        CASH = "cash", "Cash"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        POSTED = "posted", "Posted"
        VOID = "void", "Void"

    STATUS_BADGES = {Status.POSTED: "success", Status.VOID: "secondary"}

    number = models.CharField(max_length=30, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    received_on = models.DateField("date received")
    amount = _money()
    currency = models.CharField(max_length=3, choices=currency_choices)
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.BANK_TRANSFER)
    reference = models.CharField(
        max_length=100, blank=True, validators=[no_bidi_controls], help_text="The bank's reference or cheque number."
    )
    notes = models.TextField(blank=True, validators=[no_bidi_controls])
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.POSTED, editable=False)
    amount_allocated = _money(default=ZERO, editable=False)
    unapplied = _money(default=ZERO, editable=False)
    voided_on = models.DateField(null=True, blank=True, editable=False)
    void_reason = models.CharField(max_length=200, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = PaymentQuerySet.as_manager()

    feed_parents = ("customer",)

    class Meta:
        ordering = ["-received_on", "-id"]
        permissions = [
            ("view_own_payment", "Can view the payments of their own customers"),
            ("allocate_payment", "Can allocate and unallocate payments"),
            ("void_payment", "Can void payments"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receivables_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_allocated__gte=0, amount_allocated__lte=F("amount")),
                name="receivables_payment_allocated_within_amount",
            ),
            # A void payment has nothing allocated and no credit left to use.
            models.CheckConstraint(
                # Rounded: SQLite computes with floats; PostgreSQL's numeric is exact anyway.
                condition=Q(status="posted", unapplied=Round(F("amount") - F("amount_allocated"), 2))
                | Q(status="void", amount_allocated=0, unapplied=0),
                name="receivables_payment_unapplied_is_amount_less_allocated",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status", "received_on"], name="recv_payment_customer"),
            models.Index(fields=["-received_on", "-id"], name="recv_payment_received_desc"),
            # with_credit(): the few payments with something left to allocate, read from the
            # index alone (credit figures, auto-allocation), not among all of a customer's payments.
            models.Index(
                fields=["customer", "currency"],
                include=["unapplied"],
                condition=Q(status="posted", unapplied__gt=0),
                name="recv_payment_credit",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("receivables:payment_detail", args=[self.pk])

    @property
    def is_void(self) -> bool:
        return self.status == self.Status.VOID


class AllocationQuerySet(models.QuerySet):
    def live(self):
        return self.filter(reversed_on__isnull=True)

    def as_of(self, day):
        """Allocations that counted at the end of `day`."""
        return self.filter(applied_on__lte=day).filter(Q(reversed_on__isnull=True) | Q(reversed_on__gt=day))


class Allocation(models.Model):
    """Part of a payment applied to one invoice. Reversed, never deleted or edited."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = _money()
    # The day it counts from: the later of the payment's date and the invoice's issue date.
    applied_on = models.DateField()
    reversed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        ordering = ["applied_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receivables_allocation_amount_positive"),
            models.CheckConstraint(
                condition=Q(reversed_on__isnull=True) | Q(reversed_on__gte=F("applied_on")),
                name="receivables_allocation_reversed_after_applied",
            ),
        ]
        indexes = [
            models.Index(fields=["invoice", "applied_on"], name="recv_allocation_invoice"),
            models.Index(fields=["payment"], name="recv_allocation_payment"),
        ]

    def __str__(self):
        return f"{self.amount} of {self.payment} to {self.invoice}"

    @property
    def is_live(self) -> bool:
        return self.reversed_on is None


class WriteOff(models.Model):
    """A small remaining balance written off, asked for by finance and approved by a
    finance manager through a collaboration approval. Counts as paid on the invoice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting approval"
        APPROVED = "approved", "Written off"
        REJECTED = "rejected", "Rejected"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="write_offs")
    amount = _money()
    reason = models.CharField(max_length=200, validators=[no_bidi_controls])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    written_off_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    feed_parents = ("invoice",)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_writeoff", "Can approve write-offs")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receivables_writeoff_amount_positive"),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status="pending"),
                name="receivables_one_pending_writeoff_per_invoice",
                violation_error_message="A write-off of this invoice is awaiting approval already.",
            ),
        ]

    def __str__(self):
        return f"Write-off of {self.amount} on {self.invoice}"


class CreditHold(models.Model):
    """A manual credit hold on a customer (automatic holds are computed live from the
    ledger and the settings, see receivables.credit)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="credit_holds")
    reason = models.CharField(max_length=200, validators=[no_bidi_controls])
    until = models.DateField(null=True, blank=True, help_text="Leave empty to hold until released.")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    set_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True, editable=False)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    feed_parents = ("customer",)

    class Meta:
        ordering = ["-set_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(released_at__isnull=True),
                name="receivables_one_manual_hold_per_customer",
                violation_error_message="This customer is on a manual credit hold already.",
            ),
        ]

    def __str__(self):
        return f"Credit hold on {self.customer}: {self.reason}"


class Standing(models.Model):
    """Per customer: how it pays (cached, refreshed by the services that change its
    payments or invoices) and whether it wants a monthly statement."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="standing")
    monthly_statement = models.BooleanField(
        default=False, help_text="Email the customer a statement of its open items at the start of each month."
    )
    # Payment behaviour over the 12 months before `behaviour_on` (None: nothing to measure).
    avg_days_late = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True, editable=False)
    avg_days_to_pay = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True, editable=False)
    late_share = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True, editable=False)
    dso = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True, editable=False)
    trend = models.JSONField(default=list, blank=True, editable=False)
    behaviour_on = models.DateField(null=True, blank=True, editable=False)
    # Which dunning policy reminds this customer (None: the default policy).
    dunning_policy = models.ForeignKey(
        "DunningPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Leave empty to follow the default dunning policy.",
    )

    def __str__(self):
        return f"Standing of {self.customer}"


class CreditRelease(models.Model):
    """An approval that let one win or one issue through a credit hold. Recorded in the
    transaction that used it: the unique approval makes "once" hold even under a race."""

    approval = models.OneToOneField(
        "collaboration.ApprovalRequest", on_delete=models.PROTECT, related_name="credit_release"
    )
    consumed_at = models.DateTimeField(auto_now_add=True)
    consumed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-consumed_at", "-id"]

    def __str__(self):
        return f"Credit hold passed once with approval {self.approval_id}"


class Statement(models.Model):
    """A customer's statement of open items as of a day: what its PDF and its email say.
    One per customer and day. The PDF is made again whenever it is asked for, because
    what was open on a past day can still change (a payment entered late, backdated)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="statements")
    as_of = models.DateField("as of")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The last time it was emailed, and to whom (None / "": never).
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_to = models.CharField(max_length=254, blank=True, editable=False)

    feed_parents = ("customer",)

    class Meta:
        ordering = ["-as_of", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "as_of"],
                name="receivables_one_statement_per_customer_and_day",
                violation_error_message="This customer has a statement as of this day already.",
            )
        ]

    def __str__(self):
        return f"Statement of {self.customer} as of {self.as_of:%Y-%m-%d}"

    def get_absolute_url(self):
        return f"{reverse('receivables:customer_statement', args=[self.customer_id])}?as_of={self.as_of:%Y-%m-%d}"


# --- Dunning ------------------------------------------------------------------------------
# How overdue customers are reminded (receivables.dunning): policies of levels, the runs
# that send notices, and what holds a reminder back (disputes, promises, manual holds).


class DunningPolicy(models.Model):
    """A ladder of reminders by days after the due date. One policy is the default;
    a customer may follow another (Standing.dunning_policy)."""

    name = models.CharField(max_length=100, unique=True, validators=[no_bidi_controls])
    is_default = models.BooleanField("default", default=False)
    active = models.BooleanField(default=True)
    # Bumped by every save_policy (core.concurrency): two managers editing the ladder at
    # once do not silently overwrite each other's levels.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name_plural = "dunning policies"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="receivables_one_default_dunning_policy",
                violation_error_message="Another policy is the default already.",
            ),
        ]

    def __str__(self):
        return self.name


class DunningLevel(models.Model):
    """One step of a policy: from `days_after_due` (negative: before the due date), the
    message to send (email, a letter PDF by email, or a task for the account owner) and
    what it may charge. A level is sent once per invoice (DunningNoticeLine)."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter (PDF)"
        TASK = "task", "Task for the account owner"

    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="levels")
    order = models.PositiveSmallIntegerField()
    days_after_due = models.SmallIntegerField(help_text="Days after the due date; negative for a “due soon” note.")
    name = models.CharField(max_length=100, validators=[no_bidi_controls])
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    subject_template = models.CharField(max_length=200, blank=True)
    body_template = models.TextField(blank=True)
    # Money: a fee charged with this level, an open item of its own (never added to an invoice).
    fee = _money(null=True, blank=True)
    # Percent a year on the overdue balance, charged as an open item of its own.
    interest_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # A task level: the owner has this many days to call before the next level may go.
    task_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="receivables_dunning_level_order"),
            models.UniqueConstraint(fields=["policy", "days_after_due"], name="receivables_dunning_level_days"),
            models.CheckConstraint(
                condition=Q(fee__isnull=True) | Q(fee__gte=0), name="receivables_dunning_level_fee_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.days_after_due:+d} days)"


class DisputeQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=Dispute.Status.OPEN)

    def visible_to(self, user):
        """Finance (and sales managers) read every dispute; a rep their own customers'."""
        if not (user.is_authenticated and user.has_perm("receivables.view_dispute")):
            return self.none()
        if user.has_perm("receivables.view_payment"):
            return self
        return self.filter(invoice__customer__owner=user)


class Dispute(models.Model):
    """The customer contests (part of) an invoice. While open the invoice is not dunned;
    it ends with a credit note (in full or in part) or is rejected."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED_CREDIT = "resolved_credit", "Resolved by a credit note"
        RESOLVED_PARTIAL = "resolved_partial", "Resolved by a partial credit"
        REJECTED = "rejected", "Rejected"

    STATUS_BADGES = {
        Status.OPEN: "warning",
        Status.RESOLVED_CREDIT: "success",
        Status.RESOLVED_PARTIAL: "success",
        Status.REJECTED: "secondary",
    }

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="disputes")
    amount = _money()
    reason = models.CharField(max_length=300, validators=[no_bidi_controls])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, editable=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    resolution_note = models.CharField(max_length=300, blank=True, validators=[no_bidi_controls])
    credit_note = models.ForeignKey(
        "billing.CreditNote", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = DisputeQuerySet.as_manager()

    feed_parents = ("invoice",)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receivables_dispute_amount_positive"),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status="open"),
                name="receivables_one_open_dispute_per_invoice",
                violation_error_message="This invoice has an open dispute already.",
            ),
        ]

    def __str__(self):
        return f"Dispute of {self.amount} on {self.invoice}"

    def get_absolute_url(self):
        return reverse("receivables:dispute_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class PaymentPromiseQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=PaymentPromise.Status.ACTIVE)


class PaymentPromise(models.Model):
    """The customer said it will pay `amount` by `promised_for` (the whole account, or one
    invoice). Dunning waits until that day; kept when paid by then, broken otherwise."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        KEPT = "kept", "Kept"
        BROKEN = "broken", "Broken"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payment_promises")
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="payment_promises"
    )
    amount = _money()
    currency = models.CharField(max_length=3, choices=currency_choices)
    promised_for = models.DateField()
    # What was owed when the promise was taken (the invoice's balance, or the account's in
    # the currency): the promise is kept once the balance is down by `amount` from this.
    balance_when_taken = _money(editable=False)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, editable=False)
    evaluated_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PaymentPromiseQuerySet.as_manager()

    feed_parents = ("customer",)

    class Meta:
        ordering = ["-promised_for", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receivables_promise_amount_positive"),
        ]
        indexes = [models.Index(fields=["customer", "status"], name="recv_promise_customer")]

    def __str__(self):
        return f"Promise of {self.amount} {self.currency} by {self.promised_for:%Y-%m-%d}"


class DunningHoldQuerySet(models.QuerySet):
    def active(self, on):
        """Holds in force on `on`: not released, and not expired by then."""
        return self.filter(released_at__isnull=True).filter(Q(until__isnull=True) | Q(until__gte=on))


class DunningHold(models.Model):
    """A person stopped reminders to a customer (or about one invoice), with a reason,
    until a day or until released. Not a credit hold: selling goes on."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="dunning_holds")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="dunning_holds")
    reason = models.CharField(max_length=200, validators=[no_bidi_controls])
    until = models.DateField(null=True, blank=True, help_text="Leave empty to hold until released.")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    set_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True, editable=False)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = DunningHoldQuerySet.as_manager()

    feed_parents = ("customer",)

    class Meta:
        ordering = ["-set_at", "-id"]

    def __str__(self):
        return f"Dunning hold on {self.invoice or self.customer}: {self.reason}"


class DunningRun(models.Model):
    """One run of dunning as of a day: what it planned (skipped customers by reason),
    and its progress while the notices are made and sent. One runs at a time."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    as_of = models.DateField("as of")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"planned": n, "skipped": {reason: count}} written when the run starts.
    totals = models.JSONField(default=dict, blank=True)
    # Counters moved with F() by the tasks, each once per notice (see dunning.send_notice).
    progress_total = models.PositiveIntegerField(default=0)
    progress_done = models.PositiveIntegerField(default=0)
    notices_sent = models.PositiveIntegerField(default=0)
    notices_failed = models.PositiveIntegerField(default=0)
    notices_skipped = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("run_dunning", "Can run dunning")]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="receivables_one_running_dunning_run",
                violation_error_message="A dunning run is in progress already.",
            ),
        ]

    def __str__(self):
        return f"Dunning run as of {self.as_of:%Y-%m-%d}"

    @property
    def percent_done(self) -> int:
        if not self.progress_total:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, self.progress_done * 100 // self.progress_total)

    @property
    def summary(self) -> dict:
        return {
            "sent": self.notices_sent,
            "failed": self.notices_failed,
            "skipped": dict(self.totals.get("skipped", {})),
            "skipped_at_send": self.notices_skipped,
        }


class DunningNotice(models.Model):
    """What one customer was sent in a run: one message listing each of its invoices at
    its own level, kept as rendered. Made by the run's batches, sent once by send_notice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, related_name="notices")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="dunning_notices")
    channel = models.CharField(max_length=8, choices=DunningLevel.Channel.choices)
    # The highest level among the notice's lines: it chose the channel and the text.
    level = models.ForeignKey(DunningLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sent_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    feed_parents = ("customer",)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="receivables_one_notice_per_run_and_customer"),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="recv_notice_customer"),
            models.Index(fields=["run", "status"], name="recv_notice_run"),
        ]

    def __str__(self):
        return f"{self.subject or 'Dunning notice'} to {self.customer}"


class DunningNoticeLine(models.Model):
    """One invoice in a notice, at its level and with the balance it was dunned on. The
    unique (invoice, level) is what makes "a level is sent once per invoice" hold under
    retries and concurrent batches."""

    notice = models.ForeignKey(DunningNotice, on_delete=models.CASCADE, related_name="lines")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="dunning_lines")
    level = models.ForeignKey(DunningLevel, on_delete=models.PROTECT, related_name="+")
    balance = _money()
    days_overdue = models.SmallIntegerField(default=0)

    class Meta:
        ordering = ["notice", "invoice__due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="receivables_one_dunning_level_per_invoice"),
        ]

    def __str__(self):
        return f"{self.invoice} at {self.level}"


class DunningFee(models.Model):
    """A dunning fee or interest charged with a notice: an open item of its own that the
    customer owes besides its invoices. Never added to an invoice."""

    class Kind(models.TextChoices):
        FEE = "fee", "Fee"
        INTEREST = "interest", "Interest"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        WAIVED = "waived", "Waived"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="dunning_fees")
    notice = models.ForeignKey(DunningNotice, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.FEE)
    amount = _money()
    currency = models.CharField(max_length=3, choices=currency_choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    feed_parents = ("customer",)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receivables_dunning_fee_positive"),
            models.UniqueConstraint(
                fields=["notice", "kind", "currency"], name="receivables_one_dunning_fee_per_notice"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.amount} {self.currency}"


class CollectionTask(models.Model):
    """A collection call. Either asked of the account owner by a task level of dunning
    (`notice` set; the next level waits for it to be done or for its deadline to pass), or
    logged by a collector who called the customer without being asked (`notice` None,
    made DONE at once by dunning.log_call). One model for both, so the worklist's "last
    contact", the 360 and the API read every call in one place; a call without a notice
    is never open (a constraint), so nothing ever waits on it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    class Outcome(models.TextChoices):
        CALLED = "called", "Called"
        PROMISED = "promised", "Promised to pay"
        DISPUTED = "disputed", "Disputed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="collection_tasks")
    # The notice of the task level that asked for the call; None: a call logged unasked.
    notice = models.OneToOneField(DunningNotice, null=True, blank=True, on_delete=models.PROTECT, related_name="task")
    due = models.DateField()
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    note = models.CharField(max_length=300, blank=True, validators=[no_bidi_controls])
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    feed_parents = ("customer",)

    class Meta:
        ordering = ["due", "id"]
        indexes = [
            models.Index(fields=["owner", "status"], name="recv_task_owner_status"),
            models.Index(fields=["customer", "status", "-done_at"], name="recv_task_customer_done"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(notice__isnull=False) | Q(status="done"),
                name="receivables_collection_call_without_notice_is_done",
                violation_error_message="A call logged without a dunning notice is done when it is logged.",
            ),
        ]

    def __str__(self):
        return f"Call {self.customer} by {self.due:%Y-%m-%d}"
