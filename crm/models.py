"""The customer master record that every other part of Concord points to."""

import calendar
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Replace, Round, Upper
from django.urls import reverse
from django_countries.fields import CountryField

from accounts.roles import SALES_ROLES
from core.currencies import currency_choices, currency_label
from core.validators import no_bidi_controls

# What a tax id may be typed with but is stored without: `de 123.456-789` and
# `DE123456789` are the same tax id.
TAX_ID_SEPARATORS = (" ", "\t", "\n", "\r", ".", "-", "/")


def normalize_tax_id(value: str) -> str:
    """The one normalisation of a tax id: separators out, upper case.

    Customer.clean() applies it, so every writer that validates the model (the
    services, the admin) stores the normalised form, and the database refuses any
    other (the crm_customer_tax_id_normalised constraint, built from the same
    separators)."""
    value = value or ""
    for separator in TAX_ID_SEPARATORS:
        value = value.replace(separator, "")
    return value.upper()


def _normalised_tax_id_expression():
    expression = models.F("tax_id")
    for separator in TAX_ID_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return Upper(expression)


def default_currency() -> str:
    return settings.DEFAULT_CURRENCY


def possible_owners():
    """Who can own a customer: active users in a sales role."""
    return get_user_model().objects.in_roles(*SALES_ROLES)


def owner_choices(customer: "Customer | None" = None):
    """The owners a form or the API offers: the possible owners, plus the current
    owner of an existing customer (who stays selectable after leaving sales)."""
    if customer is None or customer.owner_id is None:
        return possible_owners()
    return get_user_model().objects.filter(Q(pk__in=possible_owners().values("pk")) | Q(pk=customer.owner_id))


# A customer without a credit limit has no limit: it sorts above every real limit,
# last when sorting by credit limit ascending, first with "largest limits first".
# The sentinel is above the largest value the column holds (14 digits, 2 places).
NO_CREDIT_LIMIT_SORTS_AS = Decimal("1000000000000.00")


class PaymentTerms(models.TextChoices):
    NET = "net", "Net N days"
    END_OF_MONTH = "eom", "End of month + N days"


def billing_name(legal_name: str, name: str) -> str:
    """The name invoices carry: the legal name, or the everyday name when it is blank."""
    return legal_name or name


def terms_label(terms: str, days: int) -> str:
    """Terms as people say them: "Net 30", "End of month + 15", "Due on receipt"."""
    if terms == PaymentTerms.END_OF_MONTH:
        return f"End of month + {days}" if days else "End of month"
    return f"Net {days}" if days else "Due on receipt"


def due_date(terms: str, days: int, issued_on: date) -> date:
    """When a document issued on `issued_on` falls due: net N is N days later; end of
    month + N is N days after the last day of the month it was issued in."""
    if terms == PaymentTerms.END_OF_MONTH:
        month_end = issued_on.replace(day=calendar.monthrange(issued_on.year, issued_on.month)[1])
        return month_end + timedelta(days=days)
    return issued_on + timedelta(days=days)


# What an invoice needs and a customer may lack: the one definition of "cannot be
# invoiced yet", used by the list's filter and the home pages.
BILLING_DETAILS_REQUIRED = ("tax_id", "address_line1", "city", "country")


def missing_billing_details(prefix: str = "") -> Q:
    """Customers lacking any of BILLING_DETAILS_REQUIRED; `prefix` reaches them
    through a relation ("owned_customers__")."""
    condition = Q()
    for field in BILLING_DETAILS_REQUIRED:
        condition |= Q(**{f"{prefix}{field}": ""})
    return condition


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Customers a user may see. Every role reads every customer; a user with
        no role (or an integrator's token of such a user) sees none."""
        if user.is_authenticated and user.has_perm("crm.view_customer"):
            return self
        return self.none()

    def owned_by(self, user):
        return self.filter(owner=user)

    def search(self, text: str):
        """Customers whose name, legal name, email or tax ID contain `text` (a tax ID
        typed with spaces still matches): the list's search box and the global search."""
        text = text.strip()
        if not text:
            return self
        return self.filter(
            Q(name__icontains=text)
            | Q(legal_name__icontains=text)
            | Q(email__icontains=text)
            | Q(tax_id__icontains=text.replace(" ", ""))
        )

    def with_primary_contact(self):
        """Annotate `primary_contact_name` and `primary_contact_email` (None without a
        primary contact), read in the same query as the customers."""
        primary = Contact.objects.filter(customer=models.OuterRef("pk"), is_primary=True)
        return self.annotate(
            primary_contact_name=models.Subquery(primary.values("name")[:1]),
            primary_contact_email=models.Subquery(primary.values("email")[:1]),
        )

    def with_credit_limit_sort(self):
        """Annotate `credit_limit_sort`: the credit limit, "no limit" sorting as the
        highest (NO_CREDIT_LIMIT_SORTS_AS). The list page and the API sort by it, and
        it is never NULL, so it can be a cursor position."""
        return self.annotate(
            credit_limit_sort=Coalesce(
                "credit_limit",
                Value(NO_CREDIT_LIMIT_SORTS_AS),
                output_field=models.DecimalField(max_digits=15, decimal_places=2),
            )
        )

    def credit_totals(self):
        """Credit granted, per currency: [{"currency": "EUR", "total": Decimal(…)}, …]."""
        return (
            self.order_by()
            .values("currency")
            .annotate(total=models.Sum("credit_limit"))
            .filter(total__isnull=False)
            .order_by("currency")
        )

    def owners_by_book_size(self):
        """The owners of these customers, each annotated with how many they own
        (`customer_count`), how many of those are active (`active_count`) and how many
        cannot be invoiced yet (`incomplete_count`), largest book first."""
        book = Q(owned_customers__in=self.order_by().values("pk"))
        return (
            get_user_model()
            .objects.annotate(
                customer_count=models.Count("owned_customers", filter=book),
                active_count=models.Count(
                    "owned_customers", filter=book & Q(owned_customers__status=Customer.Status.ACTIVE)
                ),
                incomplete_count=models.Count(
                    "owned_customers", filter=book & missing_billing_details("owned_customers__")
                ),
            )
            .filter(customer_count__gt=0)
            .order_by("-customer_count", "first_name", "last_name", "username")
        )

    def missing_billing_details(self):
        """Customers that cannot be invoiced yet: no tax ID or an incomplete address."""
        return self.filter(missing_billing_details())

    def complete_billing_details(self):
        return self.exclude(missing_billing_details())


class Customer(models.Model):
    """A company we sell to and bill: one record shared by sales and finance.

    Sales owns the relationship (owner, status); finance owns how it is billed
    (legal name, tax id, address, currency, terms) and how much credit it gets.
    """

    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    name = models.CharField(
        max_length=200, validators=[no_bidi_controls], help_text="The name people use for the company."
    )
    legal_name = models.CharField(
        max_length=200,
        blank=True,
        validators=[no_bidi_controls],
        help_text="As printed on invoices; the name is used when empty.",
    )
    tax_id = models.CharField(
        "tax ID", max_length=40, blank=True, help_text="VAT or tax number; unique across customers."
    )
    email = models.EmailField(blank=True, help_text="Where invoices and reminders go.")
    phone = models.CharField(max_length=40, blank=True)

    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    # Stored as the ISO 3166 alpha-2 code ("DE"); chosen and shown by name.
    country = CountryField(blank=True)

    # An ISO 4217 code ("EUR") among those in use today (core.currencies).
    currency = models.CharField(max_length=3, default=default_currency, choices=currency_choices)
    payment_terms = models.CharField(max_length=3, choices=PaymentTerms.choices, default=PaymentTerms.NET)
    payment_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(0)], help_text="N in “net N days” or “end of month + N days”."
    )
    # Money: Decimal, 2 places, in the customer's currency. Empty means no limit is set.
    credit_limit = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Most this customer may owe us; empty for no limit.",
    )

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_customers",
        help_text="The sales rep who owns the relationship.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Bumped by crm.services with every change, under the row lock: the edit page
    # and the API's ETag / If-Match carry it so a stale edit is refused, not applied.
    # A database default too, so rows loaded by raw SQL (bench's COPY) start at 1.
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Who saved the last change (crm.services sets it with updated_at); empty for
    # rows older than the field and once that user is deleted.
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )

    objects = CustomerQuerySet.as_manager()

    # The colour of each status's badge (core.badges), on lists and the record page.
    STATUS_BADGES = {Status.ACTIVE: "success", Status.PROSPECT: "info", Status.INACTIVE: "secondary"}

    # Changes made through crm.services that the customer's feed shows ("Owner: Ann → Bob").
    tracked_fields = ("owner", "status", "credit_limit", "payment_terms", "payment_days", "currency")

    class Meta:
        ordering = ["name", "id"]
        permissions = [
            ("change_own_customer", "Can change customers they own"),
            ("change_customer_billing", "Can change customers' billing details"),
            ("change_customer_credit_limit", "Can change customers' credit limits"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_id"],
                condition=~Q(tax_id=""),
                name="crm_customer_unique_tax_id",
                violation_error_message="A customer with this tax ID already exists.",
                # "unique" makes Django report it on the tax_id field (forms, admin).
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=Q(tax_id=_normalised_tax_id_expression()),
                name="crm_customer_tax_id_normalised",
                violation_error_message="Store the tax ID normalised (no spaces or separators, upper case).",
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                name="crm_customer_credit_limit_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="crm_customer_name_id"),
            models.Index(fields=["owner", "name"], name="crm_customer_owner_name"),
            models.Index(fields=["status", "name"], name="crm_customer_status_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("crm:customer_detail", args=[self.pk])

    def clean(self):
        self.tax_id = normalize_tax_id(self.tax_id)

    @property
    def billing_name(self) -> str:
        return billing_name(self.legal_name, self.name)

    @property
    def billing_address_lines(self) -> list[str]:
        city_line = " ".join(part for part in (self.postal_code, self.city) if part)
        lines = [self.address_line1, self.address_line2, city_line, self.region, self.country.name]
        return [line for line in lines if line]

    @property
    def currency_label(self) -> str:
        """ "Euro (EUR)"."""
        return currency_label(self.currency)

    @property
    def terms_label(self) -> str:
        return terms_label(self.payment_terms, self.payment_days)

    def due_date(self, issued_on: date) -> date:
        """When an invoice issued on `issued_on` falls due under this customer's terms."""
        return due_date(self.payment_terms, self.payment_days, issued_on)


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Contacts of the customers a user may see."""
        customers = Customer.objects.visible_to(user)
        if not customers.query.where:
            # Every customer: no `customer_id IN (SELECT id FROM crm_customer)` over 100,000 rows.
            return self
        return self.filter(customer__in=customers)

    def search(self, text: str):
        """Contacts whose name, email or phone contain `text`."""
        text = text.strip()
        if not text:
            return self
        return self.filter(Q(name__icontains=text) | Q(email__icontains=text) | Q(phone__icontains=text))


CONTACT_NEEDS_EMAIL_OR_PHONE = "Enter an email address or a phone number: a contact needs at least one."


class Contact(models.Model):
    """A person at a customer. The primary contact is who documents are addressed to;
    a contact is someone we can reach, so it has an email address or a phone number."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, validators=[no_bidi_controls])
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    job_title = models.CharField(max_length=100, blank=True)
    is_primary = models.BooleanField("primary", default=False)
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)  # see Customer.version
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(phone=""),
                name="crm_contact_email_or_phone",
                violation_error_message=CONTACT_NEEDS_EMAIL_OR_PHONE,
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="crm_contact_one_primary_per_customer",
                violation_error_message="This customer already has a primary contact.",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        # Said on both fields: either one, filled in, puts it right.
        if not self.email and not self.phone:
            raise ValidationError(
                {
                    name: ValidationError(CONTACT_NEEDS_EMAIL_OR_PHONE, code="email_or_phone")
                    for name in ("email", "phone")
                }
            )


# --- The catalog: what is sold, and the taxes lines carry ---------------------------------

PERCENT = (MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100")))


class TaxRate(models.Model):
    """A sales tax rate a quote or invoice line carries ("VAT 19%"). Kept by finance;
    a rate no longer charged is set inactive, never deleted while lines use it."""

    name = models.CharField(max_length=60, unique=True, help_text="As documents print it, e.g. “VAT 19%”.")
    percentage = models.DecimalField(
        max_digits=5, decimal_places=2, validators=PERCENT, help_text="0 to 100, e.g. 19.00."
    )
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percentage__gte=0, percentage__lte=100), name="crm_taxrate_percentage_0_100"
            )
        ]

    def __str__(self):
        return self.name


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def search(self, text: str):
        text = text.strip()
        if not text:
            return self
        return self.filter(Q(code__icontains=text) | Q(name__icontains=text))


class Product(models.Model):
    """Something we sell, at a list price in the company's currency; deals and
    invoices copy its price and tax rate onto their lines, so changing the catalog
    never changes what was quoted or billed."""

    code = models.CharField(max_length=40, unique=True, validators=[no_bidi_controls])
    name = models.CharField(max_length=200, validators=[no_bidi_controls])
    description = models.TextField(blank=True)
    # Money: the list price of one unit, before discount and tax.
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, choices=currency_choices, default=default_currency)
    default_tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(unit_price__gte=0), name="crm_product_price_not_negative")]

    def __str__(self):
        return f"{self.code} — {self.name}"


class Stage(models.Model):
    """A step of the sales pipeline, as data: its place on the board, the chance a
    deal there is won (for the weighted forecast), and whether it ends the deal."""

    name = models.CharField(max_length=60, unique=True)
    order = models.PositiveSmallIntegerField(unique=True, help_text="Place on the board, left to right.")
    probability = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(100)], help_text="Chance in percent that a deal in this stage is won."
    )
    is_won = models.BooleanField("won", default=False)
    is_lost = models.BooleanField("lost", default=False)

    class Meta:
        ordering = ["order"]
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="crm_stage_probability_0_100"),
            models.CheckConstraint(condition=~Q(is_won=True, is_lost=True), name="crm_stage_not_won_and_lost"),
            # One stage wins a deal and one loses it: "Invoice this deal" and the forecast rely on it.
            models.UniqueConstraint(fields=["is_won"], condition=Q(is_won=True), name="crm_one_won_stage"),
            models.UniqueConstraint(fields=["is_lost"], condition=Q(is_lost=True), name="crm_one_lost_stage"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


# --- Selling: leads, opportunities and their lines, quotes, service cases ---------------

QUANTITY_MAX_DIGITS = 12
QUANTITY_PLACES = 3


class LeadQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Every role reads every lead (reps read each other's; finance reads all of CRM)."""
        if user.is_authenticated and user.has_perm("crm.view_lead"):
            return self
        return self.none()

    def open(self):
        return self.filter(status__in=(Lead.Status.NEW, Lead.Status.WORKING, Lead.Status.QUALIFIED), customer=None)


class Lead(models.Model):
    """Someone who might buy, before they are a customer. A qualified lead is
    converted into a customer (or matched to an existing one), a contact and a deal."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        WORKING = "working", "Working"
        QUALIFIED = "qualified", "Qualified"
        DISQUALIFIED = "disqualified", "Disqualified"

    class Source(models.TextChoices):
        WEB = "web", "Website"
        REFERRAL = "referral", "Referral"
        EVENT = "event", "Event"
        COLD_CALL = "cold_call", "Cold call"
        PARTNER = "partner", "Partner"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200, validators=[no_bidi_controls], help_text="The person's name.")
    company = models.CharField(max_length=200, blank=True, validators=[no_bidi_controls])
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    tax_id = models.CharField(
        "tax ID", max_length=40, blank=True, help_text="If known; finds the customer on conversion."
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.WEB)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    disqualified_reason = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_leads")
    notes = models.TextField(blank=True)
    # Set once, by crm.leads.convert_lead: what the lead became.
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="leads", editable=False
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    opportunity = models.ForeignKey(
        "Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    converted_at = models.DateTimeField(null=True, blank=True, editable=False)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LeadQuerySet.as_manager()

    STATUS_BADGES = {
        Status.NEW: "info",
        Status.WORKING: "primary",
        Status.QUALIFIED: "success",
        Status.DISQUALIFIED: "secondary",
    }
    tracked_fields = ("status", "owner")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("change_own_lead", "Can change leads they own")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="disqualified") | ~Q(disqualified_reason=""),
                name="crm_lead_disqualified_has_reason",
                violation_error_message="Say why the lead is disqualified.",
            ),
            models.CheckConstraint(
                condition=Q(converted_at__isnull=True) | Q(customer__isnull=False),
                name="crm_lead_converted_has_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="crm_lead_owner_status"),
            models.Index(fields=["status", "-created_at"], name="crm_lead_status_created"),
        ]

    def __str__(self):
        return f"{self.name} ({self.company})" if self.company else self.name

    def get_absolute_url(self):
        return reverse("crm:lead_detail", args=[self.pk])

    @property
    def is_converted(self) -> bool:
        return self.converted_at is not None


class OpportunityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Every role reads every deal: reps read each other's, finance reads all of CRM."""
        if user.is_authenticated and user.has_perm("crm.view_opportunity"):
            return self
        return self.none()

    def open(self):
        return self.filter(stage__is_won=False, stage__is_lost=False)

    def won(self):
        return self.filter(stage__is_won=True)

    def lost(self):
        return self.filter(stage__is_lost=True)

    def with_weighted_amount(self):
        """Annotate `weighted_amount`: amount × the stage's probability, to the cent."""
        return self.annotate(
            weighted_amount=models.ExpressionWrapper(
                models.F("amount") * models.F("stage__probability") / Value(Decimal("100")),
                output_field=models.DecimalField(max_digits=16, decimal_places=2),
            )
        )


class Opportunity(models.Model):
    """A deal: what a customer may buy, how likely and when. Its amount is the sum of
    its lines, each rounded (crm.opportunities keeps it); its currency is the customer's
    and its payment terms start as the customer's and may be changed by the rep, which
    is what billing carries onto the invoice unchanged."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="opportunities")
    name = models.CharField(max_length=200, validators=[no_bidi_controls])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_opportunities")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    expected_close_date = models.DateField()
    currency = models.CharField(max_length=3, choices=currency_choices, editable=False)
    # Money: the sum of the lines' net amounts (before tax), kept by crm.opportunities.
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False)
    payment_terms = models.CharField(max_length=3, choices=PaymentTerms.choices, default=PaymentTerms.NET)
    payment_days = models.PositiveSmallIntegerField(default=30)
    next_step = models.CharField(max_length=200, blank=True)
    lost_reason = models.CharField(max_length=200, blank=True)
    # When the deal was won or lost (the stage's date); empty while open.
    closed_on = models.DateField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )

    objects = OpportunityQuerySet.as_manager()

    tracked_fields = ("stage", "amount", "owner", "expected_close_date", "payment_terms", "payment_days")
    feed_parents = ("customer",)

    class Meta:
        ordering = ["expected_close_date", "id"]
        verbose_name = "opportunity"
        verbose_name_plural = "opportunities"
        permissions = [("change_own_opportunity", "Can change opportunities they own")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="crm_opportunity_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["stage", "expected_close_date", "id"], name="crm_opp_stage_close"),
            models.Index(fields=["owner", "stage"], name="crm_opp_owner_stage"),
            models.Index(fields=["customer", "-updated_at"], name="crm_opp_customer_updated"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("crm:opportunity_detail", args=[self.pk])

    @property
    def terms_label(self) -> str:
        return terms_label(self.payment_terms, self.payment_days)

    @property
    def is_closed(self) -> bool:
        return self.stage.is_closed

    @property
    def terms_differ_from_customer(self) -> bool:
        """Did the rep agree terms other than the customer's? The deal page says so."""
        customer = self.customer
        return (self.payment_terms, self.payment_days) != (customer.payment_terms, customer.payment_days)


class DocumentLine(models.Model):
    """What a deal's, quote's (and billing's) lines have in common: a product or free
    text, quantity, unit price, discount and tax, and the net amount rounded per line
    (core.money.line_amount), stored so totals are sums in the database."""

    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=300, validators=[no_bidi_controls])
    quantity = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_PLACES,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    discount_percent = models.DecimalField(
        "discount %", max_digits=5, decimal_places=2, default=Decimal("0"), validators=PERCENT
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, editable=False)

    class Meta:
        abstract = True
        ordering = ["position", "id"]


class OpportunityLine(DocumentLine):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta(DocumentLine.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="crm_oppline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="crm_oppline_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="crm_oppline_discount_0_100"
            ),
        ]

    def __str__(self):
        return self.description


class Quote(models.Model):
    """A priced offer sent to the customer: a snapshot of the deal's lines and terms
    when it was made. Once sent it never changes; a new version supersedes it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        SUPERSEDED = "superseded", "Superseded"

    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT, related_name="quotes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="quotes", editable=False)
    # Q-<year>-<seq>, given when the quote is made; a new version is a new quote with its own number.
    number = models.CharField(max_length=30, unique=True, editable=False)
    revision = models.PositiveSmallIntegerField(default=1, editable=False)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by", editable=False
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, editable=False)
    issue_date = models.DateField()
    valid_until = models.DateField()
    currency = models.CharField(max_length=3, choices=currency_choices, editable=False)
    payment_terms = models.CharField(max_length=3, choices=PaymentTerms.choices)
    payment_days = models.PositiveSmallIntegerField()
    notes = models.TextField(blank=True, help_text="Printed under the lines.")
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False)
    tax_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_to = models.EmailField(blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    feed_parents = ("opportunity", "customer")
    STATUS_BADGES = {
        Status.DRAFT: "secondary",
        Status.SENT: "info",
        Status.ACCEPTED: "success",
        Status.DECLINED: "danger",
        Status.SUPERSEDED: "light",
    }

    class Meta:
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("issue_date")), name="crm_quote_valid_after_issue"
            ),
            models.CheckConstraint(
                # Rounded: SQLite adds decimals as floats (0.1 + 0.2 ≠ 0.3); PostgreSQL's numeric is exact anyway.
                condition=Q(total=Round(models.F("subtotal") + models.F("tax_total"), 2)),
                name="crm_quote_total_sum",
            ),
        ]
        indexes = [models.Index(fields=["customer", "-issue_date"], name="crm_quote_customer_issued")]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("crm:quote_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def terms_label(self) -> str:
        return terms_label(self.payment_terms, self.payment_days)


class QuoteLine(DocumentLine):
    """A quote's copy of a deal line, with the tax as it was then (name and percent),
    so a later change to the catalog never changes a sent quote."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    tax_name = models.CharField(max_length=60, blank=True)
    tax_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    tax_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))

    class Meta(DocumentLine.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="crm_quoteline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="crm_quoteline_price_not_negative"),
        ]

    def __str__(self):
        return self.description


class ServiceCaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.is_authenticated and user.has_perm("crm.view_servicecase"):
            return self
        return self.none()

    def open(self):
        return self.exclude(status__in=ServiceCase.CLOSED_STATUSES)

    def serious(self):
        """Open cases at or above SERIOUS_SEVERITIES: receivables holds dunning while one is open."""
        return self.open().filter(severity__in=ServiceCase.SERIOUS_SEVERITIES)


class ServiceCase(models.Model):
    """A customer's problem anyone may log: open cases show on the customer, its
    followers hear of them, and a serious one holds dunning (receivables reads
    ServiceCase.objects.serious())."""

    class Severity(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        WAITING = "waiting", "Waiting on customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED)
    SERIOUS_SEVERITIES = (Severity.HIGH, Severity.CRITICAL)
    SEVERITY_BADGES = {
        Severity.LOW: "secondary",
        Severity.NORMAL: "info",
        Severity.HIGH: "warning",
        Severity.CRITICAL: "danger",
    }

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="service_cases")
    subject = models.CharField(max_length=200, validators=[no_bidi_controls])
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_cases")
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_cases"
    )
    # The invoice it is about, by number: billing lives above crm, so crm cannot point
    # to it with a foreign key; billing resolves the number (and links back) itself.
    invoice_number = models.CharField(max_length=30, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceCaseQuerySet.as_manager()

    tracked_fields = ("status", "severity", "owner")
    feed_parents = ("customer",)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "service case"
        indexes = [models.Index(fields=["customer", "status"], name="crm_case_customer_status")]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("crm:case_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES
