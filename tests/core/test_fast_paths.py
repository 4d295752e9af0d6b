"""The fast paths give exactly what the stock libraries give.

Every table built on `core.tables.FastRowsTable` and every serializer using
`core.api.serializers.FastRepresentationMixin`, in any app, is rendered both ways on
the same rows — django-tables2's own template vs `rendered_rows`, DRF's own
`to_representation` vs the fast one — and the outputs must be equal. Besides the
apps' own classes, the module defines one table and a few serializers that use every
kind of column and field a later app may reach for (choice labels, linkify, booleans,
dates, blanks and defaults, dotted accessors, callable attributes, nested
serializers, dicts), so a fast path that only works for today's customers fails here.

A new app whose table or serializer uses a fast path adds rows for its model to
`ROWS` below.
"""

import pkgutil
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import import_module
from importlib.util import find_spec

import django_tables2 as tables
import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse
from django.utils.html import format_html
from django_tables2 import RequestConfig
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.viewsets import GenericViewSet

from accounts.roles import SALES_REP
from core.api.rows import RowPlan, RowSource, ValuesListMixin
from core.api.serializers import FastRepresentationMixin, IdentityUrlField
from core.tables import FastRowsTable
from crm.models import Contact, Customer
from tests.factories import ContactFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

STOCK_TEMPLATE = "django_tables2/bootstrap5-responsive.html"


def import_everywhere(module: str) -> None:
    """Import `<app>.<module>` of every installed app that has one, so subclasses register."""
    for app in apps.get_app_configs():
        name = f"{app.name}.{module}"
        if find_spec(app.name) and find_spec(name):
            imported = import_module(name)
            # A package (crm/api/) holds its classes in its modules: import those too.
            for module_info in pkgutil.iter_modules(getattr(imported, "__path__", [])):
                import_module(f"{name}.{module_info.name}")


def subclasses(cls) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *subclasses(sub)]
    return found


# --- rows -----------------------------------------------------------------------------


def customers():
    """Customers covering every status and terms, blanks, no limit, other owners and currencies."""
    owner = UserFactory(username="owner-b", first_name="", last_name="")
    now = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    rows = [
        CustomerFactory(name="Acme & Söhne <GmbH>", status=Customer.Status.PROSPECT, payment_terms="eom"),
        CustomerFactory(status=Customer.Status.INACTIVE, tax_id="", email="", credit_limit=None, payment_days=0),
        CustomerFactory(owner=owner, currency="CHF", credit_limit=Decimal("1234567.5"), legal_name=""),
        CustomerFactory(status=Customer.Status.ACTIVE, payment_terms="eom", payment_days=0, region="Bayern"),
    ]
    for index, customer in enumerate(rows):
        ContactFactory(customer=customer, is_primary=True)
        if index % 2:
            ContactFactory(customer=customer, is_primary=False, phone="", job_title="")
    Customer.objects.filter(pk=rows[0].pk).update(updated_at=now, created_at=now - timedelta(days=400))
    customers = Customer.objects.select_related("owner").prefetch_related("contacts").with_primary_contact()
    return list(customers.order_by("name", "id"))


def contacts():
    customers()
    return list(Contact.objects.select_related("customer", "customer__owner").order_by("name", "id"))


def dicts():
    return [
        {"name": "Plain", "amount": Decimal("10.50"), "when": datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "tags": ["a"]},
        {"name": "", "amount": None, "when": None, "tags": []},
    ]


# model (or dict) → rows to render; a later app adds its models here.
ROWS = {Customer: customers, Contact: contacts, dict: dicts}


def rows_for(model):
    assert model in ROWS, f"add rows for {model.__name__} to ROWS in {__name__}"
    return ROWS[model]()


# --- tables ---------------------------------------------------------------------------


class EveryColumnKindTable(FastRowsTable):
    """Columns of every kind a list page may use, over contacts (which reach customers)."""

    name = tables.Column(linkify=lambda record: f"/contacts/{record.pk}/")
    customer = tables.Column(linkify=True)  # the FK's get_absolute_url
    status = tables.Column(accessor="customer__status")  # a choice field behind a relation
    terms = tables.Column(accessor="customer__payment_terms")  # dotted, with choices
    is_primary = tables.BooleanColumn()
    primary_raw = tables.Column(accessor="is_primary")  # a boolean in a plain column
    email = tables.EmailColumn()
    phone = tables.Column(default="—")  # blank → default
    job_title = tables.Column(empty_values=())  # blanks rendered as they are
    created_at = tables.DateTimeColumn(format="Y-m-d H:i")
    created_on = tables.DateColumn(accessor="created_at")
    updated_at = tables.Column()  # a datetime through {{ }}: localised like the template
    credit = tables.Column(accessor="customer__credit_limit", localize=True)
    days = tables.Column(accessor="customer__payment_days", localize=False)
    kind = tables.Column(accessor="customer", attrs={"td": {"data-status": lambda record: record.customer.status}})
    missing = tables.Column(accessor="no_such_attribute", default="n/a")
    shout = tables.Column(accessor="name", attrs={"td": {"class": "shout"}}, orderable=False)
    template = tables.TemplateColumn("{{ record.name|upper }} ({{ value }})", accessor="job_title")

    class Meta:
        model = Contact
        template_name = "core/fast_table.html"
        row_attrs = {"data-id": lambda record: record.pk}
        attrs = {"class": "table", "tbody": {"class": "rows"}, "td": {"class": "cell"}}

    def render_shout(self, value):
        return value.upper()

    def render_customer(self, value, record, bound_column):
        return format_html("<b>{}</b> ({})", value, bound_column.name)


class CustomerChoicesTable(FastRowsTable):
    """Choice fields of the table's own model without render_ methods: labels, not values."""

    name = tables.Column()
    status = tables.Column()
    payment_terms = tables.Column()
    owner = tables.Column()
    credit_limit = tables.Column(default="No limit")
    tax_id = tables.Column()

    class Meta:
        model = Customer
        template_name = "core/fast_table.html"


def fast_tables():
    import_everywhere("tables")
    return [cls for cls in subclasses(FastRowsTable) if getattr(cls._meta, "model", None) is not None]


def normalise(html: str) -> str:
    html = re.sub(r">\s+", ">", html)
    html = re.sub(r"\s+<", "<", html)
    html = re.sub(r"\s+>", ">", html)
    return re.sub(r"\s+", " ", html).strip()


def without_aria_sort(html: str) -> str:
    """The header as django-tables2's template writes it: core/fast_table.html adds aria-sort."""
    return re.sub(r' aria-sort="(ascending|descending)"', "", html)


def render_table(table_class, rows, *, stock: bool) -> str:
    """The table with every optional column shown, so those are checked too."""
    request = RequestFactory().get("/list/")
    options = {"chosen_columns": table_class.optional_columns}
    table = table_class(rows, **options, **({"template_name": STOCK_TEMPLATE} if stock else {}))
    RequestConfig(request, paginate={"per_page": 100}).configure(table)
    return table.as_html(request)


def test_every_app_table_is_discovered():
    found = fast_tables()
    from crm.tables import CustomerTable

    assert {CustomerTable, EveryColumnKindTable, CustomerChoicesTable} <= set(found)


@pytest.mark.parametrize("table_class", fast_tables(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_fast_rows_render_as_django_tables2_does(table_class):
    rows = rows_for(table_class._meta.model)
    fast = render_table(table_class, rows, stock=False)
    stock = render_table(table_class, rows, stock=True)
    assert "rendered_rows" not in stock
    assert normalise(without_aria_sort(fast)) == normalise(stock)
    assert fast.count("<tr") == len(rows) + 1  # every row, and the header


def test_choice_labels_not_values():
    html = render_table(CustomerChoicesTable, customers(), stock=False)
    assert ">Prospect<" in html and ">prospect<" not in html
    assert ">End of month + N days<" in html


def test_an_empty_table_shows_its_empty_text_as_django_tables2_does():
    class EmptyTable(CustomerChoicesTable):
        class Meta(CustomerChoicesTable.Meta):
            empty_text = "Nothing here"

    assert normalise(render_table(EmptyTable, [], stock=False)) == normalise(render_table(EmptyTable, [], stock=True))


# --- serializers -------------------------------------------------------------------------


class NestedContactSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "is_primary", "phone", "created_at"]


class EveryFieldKindSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    """Fields of every kind an API resource may use, over customers."""

    url = IdentityUrlField(view_name="api:customer-detail")
    status_label = serializers.CharField(source="get_status_display")  # a choice label
    owner = serializers.StringRelatedField()
    owner_id = serializers.IntegerField()
    owner_username = serializers.CharField(source="owner.username")  # dotted
    contacts = NestedContactSerializer(many=True, read_only=True)  # nested, many
    summary = serializers.SerializerMethodField()  # a dict
    fallback = serializers.CharField(source="no_such_attribute", default="n/a")  # missing → default
    nothing = serializers.CharField(source="no_such_attribute", required=False)  # missing → skipped
    owner_full_name = serializers.CharField(source="owner.get_full_name")  # dotted callable
    limit = serializers.DecimalField(source="credit_limit", max_digits=14, decimal_places=2, allow_null=True)
    limit_number = serializers.DecimalField(
        source="credit_limit", max_digits=14, decimal_places=1, coerce_to_string=False, allow_null=True
    )
    terms = serializers.ChoiceField(source="payment_terms", choices=Customer._meta.get_field("payment_terms").choices)
    everything = serializers.DictField(source="extra_facts", required=False)
    is_big = serializers.BooleanField(source="has_big_limit", required=False)

    class Meta:
        model = Customer
        fields = [
            "id",
            "url",
            "name",
            "legal_name",
            "tax_id",
            "email",
            "status",
            "status_label",
            "owner",
            "owner_id",
            "owner_username",
            "contacts",
            "summary",
            "fallback",
            "nothing",
            "created_at",
            "updated_at",
            "owner_full_name",
            "credit_limit",
            "limit",
            "limit_number",
            "payment_days",
            "terms",
            "everything",
            "is_big",
        ]

    def get_summary(self, customer) -> dict:
        return {"contacts": len(customer.contacts.all()), "limit": customer.credit_limit, "nested": {"a": [1, None]}}


class PlainDictSerializer(FastRepresentationMixin, serializers.Serializer):
    """Rows that are dicts (e.g. values() or an aggregate)."""

    name = serializers.CharField(allow_blank=True)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    when = serializers.DateTimeField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())


def fast_serializers():
    import_everywhere("api")
    return [cls for cls in subclasses(FastRepresentationMixin) if issubclass(cls, serializers.BaseSerializer)]


def model_of(serializer_class):
    meta = getattr(serializer_class, "Meta", None)
    return getattr(meta, "model", dict)


def api_request():
    return Request(APIRequestFactory().get("/api/v1/things/"))


@pytest.fixture
def drf_only(monkeypatch):
    """DRF's own to_representation for every serializer using the mixin, nested ones too."""

    def stock(self, instance):
        return super(FastRepresentationMixin, self).to_representation(instance)

    def use_stock():
        monkeypatch.setattr(FastRepresentationMixin, "to_representation", stock)

    return use_stock


def test_every_app_serializer_is_discovered():
    from crm.api.customers import ContactSerializer, CustomerContactSerializer, CustomerSerializer

    assert {CustomerSerializer, CustomerContactSerializer, ContactSerializer, EveryFieldKindSerializer} <= set(
        fast_serializers()
    )


@pytest.mark.parametrize("serializer_class", fast_serializers(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_fast_representation_is_drfs(serializer_class, drf_only):
    rows = rows_for(model_of(serializer_class))
    context = {"request": api_request()}
    fast = serializer_class(rows, many=True, context=context).data
    single = [serializer_class(row, context=context).data for row in rows]
    drf_only()
    stock = serializer_class(rows, many=True, context=context).data
    assert fast == stock
    assert single == stock
    assert len(stock) == len(rows)


def test_the_test_serializer_covers_labels_nested_and_dicts():
    rows = customers()
    data = EveryFieldKindSerializer(rows, many=True, context={"request": api_request()}).data
    assert {row["status_label"] for row in data} == {"Prospect", "Inactive", "Active"}
    assert all(row["fallback"] == "n/a" and "nothing" not in row for row in data)
    assert any(row["contacts"] for row in data) and all(isinstance(row["summary"], dict) for row in data)
    assert any(row["limit"] is None for row in data)


# --- lists read as values() rows ---------------------------------------------------------


class EveryColumnKindRowSerializer(serializers.ModelSerializer):
    """Fields of every kind a values() list may read, over contacts (which reach customers)."""

    url = IdentityUrlField(view_name="api:contact-detail")
    customer = serializers.PrimaryKeyRelatedField(read_only=True)  # the id
    customer_name = serializers.CharField(source="customer.name")  # dotted, through a non-null FK
    customer_status = serializers.ChoiceField(source="customer.status", choices=Customer.Status.choices)
    terms = serializers.ChoiceField(source="customer.payment_terms", choices=[("net", "Net"), ("zzz", "Z")])
    credit = serializers.DecimalField(source="customer.credit_limit", max_digits=14, decimal_places=2)
    credit_rounded = serializers.DecimalField(source="customer.credit_limit", max_digits=14, decimal_places=0)
    credit_number = serializers.DecimalField(
        source="customer.credit_limit", max_digits=14, decimal_places=1, coerce_to_string=False
    )
    days_text = serializers.CharField(source="customer.payment_days")  # an integer column as text
    created_day = serializers.DateTimeField(source="created_at", format="%Y-%m-%d %H:%M")
    customer_updated = serializers.DateTimeField(source="customer.updated_at")
    label = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "url",
            "customer",
            "customer_name",
            "customer_status",
            "terms",
            "name",
            "email",
            "phone",
            "job_title",
            "is_primary",
            "credit",
            "credit_rounded",
            "credit_number",
            "days_text",
            "created_at",
            "created_day",
            "updated_at",
            "customer_updated",
            "label",
        ]
        row_sources = {
            "label": RowSource(("name", "customer__name"), lambda name, customer: f"{name} at {customer}"),
        }

    def get_label(self, contact) -> str:
        return f"{contact.name} at {contact.customer.name}"


def values_list_viewsets():
    import_everywhere("api")
    return [cls for cls in subclasses(ValuesListMixin) if issubclass(cls, GenericViewSet)]


def row_serializers():
    """Every serializer a values() list reads, and the test's own."""
    found = {EveryColumnKindRowSerializer}
    for viewset in values_list_viewsets():
        found.add(viewset.serializer_class)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__name__}")


@pytest.mark.parametrize("serializer_class", row_serializers(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/Sao_Paulo"])
def test_a_row_plan_represents_values_rows_as_drf_represents_instances(serializer_class, zone, settings, drf_only):
    settings.TIME_ZONE = zone  # +05:30; -03:00; and Z
    instances = rows_for(model_of(serializer_class))
    plan = RowPlan(serializer_class)
    rows = list(
        model_of(serializer_class)
        .objects.filter(pk__in=[row.pk for row in instances])
        .order_by("name", "id")
        .values(*plan.columns)
    )
    context = {"request": api_request()}
    fast = plan.represent(rows, context)
    drf_only()
    stock = serializer_class(instances, many=True, context=context).data
    assert JSONRenderer().render(fast) == JSONRenderer().render(stock)
    assert len(fast) == len(instances)


def test_the_row_serializer_covers_blanks_nulls_rounding_and_zones(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    contacts()
    plan = RowPlan(EveryColumnKindRowSerializer)
    data = plan.represent(Contact.objects.order_by("name", "id").values(*plan.columns), {"request": api_request()})
    assert any(row["credit"] is None for row in data) and any(row["credit_rounded"] == "1234568" for row in data)
    assert any(row["phone"] == "" for row in data) and {row["customer_status"] for row in data} >= {"prospect"}
    assert all(row["created_at"].endswith("+05:30") for row in data)


@pytest.mark.parametrize(
    "declared",
    [
        {"owner_name": serializers.SerializerMethodField()},  # computed, without a row source
        {"billing_name": serializers.CharField()},  # a property
        {"owner_username": serializers.CharField(source="owner.username")},  # a nullable FK on the way
        {"owner": serializers.StringRelatedField()},  # a relation shown by str()
        {"contacts": NestedContactSerializer(many=True)},  # nested rows
    ],
    ids=lambda declared: next(iter(declared)),
)
def test_a_field_a_row_cannot_hold_is_refused_when_the_plan_is_made(declared):
    fields = {**declared, "Meta": type("Meta", (), {"model": Customer, "fields": ["id", *declared]})}
    serializer_class = type("UnreadableSerializer", (serializers.ModelSerializer,), fields)
    if "owner_username" in declared:
        owner = Customer._meta.get_field("owner")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(owner, "null", True)
            with pytest.raises(ImproperlyConfigured, match="row_sources"):
                RowPlan(serializer_class)
        return
    with pytest.raises(ImproperlyConfigured, match="row_sources"):
        RowPlan(serializer_class)


def test_a_row_source_for_no_field_is_refused():
    class Typo(serializers.ModelSerializer):
        class Meta:
            model = Customer
            fields = ["id", "name"]
            row_sources = {"nmae": RowSource(("name",), str)}

    with pytest.raises(ImproperlyConfigured, match="nmae"):
        RowPlan(Typo)


def test_every_values_list_viewset_is_discovered():
    from crm.api.customers import CustomerViewSet

    assert CustomerViewSet in values_list_viewsets()


LIST_QUERIES = [
    "",
    "?page_size=2",
    "?ordering=credit_limit&page_size=2",
    "?ordering=-name&page_size=1",
    "?status=active&ordering=name&page_size=1",
]


@pytest.mark.parametrize("viewset", values_list_viewsets(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
@pytest.mark.parametrize("query", LIST_QUERIES)
def test_a_values_list_answers_the_bytes_of_drfs_list(viewset, query, settings, drf_only, monkeypatch):
    """The whole response, links and cursors included, page after page, in a time zone
    that is not UTC: the values() list and DRF's ListModelMixin.list over instances."""
    settings.TIME_ZONE = "America/Sao_Paulo"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": None, "anon": None}}
    rows_for(viewset.queryset.model)
    client = APIClient()
    client.force_authenticate(UserFactory(role=SALES_REP))
    url = reverse(f"api:{viewset.queryset.model._meta.model_name}-list") + query

    def pages():
        bodies, next_url = [], url
        while next_url:
            response = client.get(next_url)
            assert response.status_code == 200, response.content
            bodies.append(response.content)
            next_url = response.json()["next"]
        return bodies

    fast = pages()
    drf_only()
    # On the viewset itself: drf-spectacular's extend_schema_view copies `list` into it.
    monkeypatch.setattr(viewset, "list", ListModelMixin.list)
    stock = pages()
    assert fast == stock
    assert len(fast) >= (2 if "page_size" in query else 1)


# --- leads and service cases ---


def leads_rows():
    from crm.models import Lead
    from tests.factories import LeadFactory, ServiceCaseFactory  # noqa: F401

    owner = UserFactory(username="lead-owner", first_name="", last_name="")
    rows = [
        LeadFactory(name="Ann <b>", company="", email="", status=Lead.Status.WORKING, source="event"),
        LeadFactory(owner=owner, status=Lead.Status.DISQUALIFIED, disqualified_reason="No budget"),
        LeadFactory(tax_id="DE1", phone="+49 1"),
    ]
    converted = CustomerFactory()
    Lead.objects.filter(pk=rows[2].pk).update(customer=converted, converted_at=datetime(2026, 3, 1, tzinfo=UTC))
    return list(Lead.objects.select_related("owner").order_by("id"))


def case_rows():
    from crm.models import ServiceCase
    from tests.factories import ServiceCaseFactory

    ServiceCaseFactory(subject="Broken <i>", severity="critical", status="open")
    ServiceCaseFactory(severity="low", status="resolved", invoice_number="INV-2026-000001")
    ServiceCaseFactory(severity="high", status="waiting", description="Long\ntext")
    return list(ServiceCase.objects.select_related("customer", "owner").order_by("id"))


def _register_selling_rows():
    from crm.models import Lead, ServiceCase

    ROWS[Lead] = leads_rows
    ROWS[ServiceCase] = case_rows


_register_selling_rows()


# --- deals (pipeline) ---


def deals():
    """Deals in open, won and lost stages, other currencies, a blank next step."""
    from crm.models import Opportunity
    from tests.factories import OpportunityFactory, stage

    for name, stage_name, currency in (
        ("Rollout <A&B>", "Proposal", "EUR"),
        ("Renewal", "Won", "CHF"),
        ("Lost one", "Lost", "EUR"),
    ):
        deal = OpportunityFactory(name=name, stage=stage(stage_name), next_step="Call" if currency == "EUR" else "")
        Opportunity.objects.filter(pk=deal.pk).update(currency=currency, amount=Decimal("1234.50"))
    return list(Opportunity.objects.select_related("customer", "owner", "stage").order_by("name", "id"))


def _add_deal_rows():
    from crm.models import Opportunity

    ROWS[Opportunity] = deals


_add_deal_rows()


# --- invoices (billing pages) and credit notes (billing API helper) ---


def invoices():
    """Drafts (no number, no dates), issued, overdue, sent and credited, void, another currency, taxed lines."""
    from datetime import date

    from accounts.roles import FINANCE_CLERK, FINANCE_MANAGER
    from billing import services
    from billing.models import Invoice
    from tests.factories import TaxRateFactory

    clerk = UserFactory(username="fast-clerk", role=FINANCE_CLERK)
    manager = UserFactory(username="fast-manager", role=FINANCE_MANAGER)
    acme = CustomerFactory(name="Acme & Söhne <GmbH>")
    dollars = CustomerFactory(currency="USD", payment_terms="eom", payment_days=0)
    line = {"description": "Work", "quantity": "1", "unit_price": "1234.50"}
    vat = TaxRateFactory(name="VAT 19%", percentage=Decimal("19.00"))
    taxed = {"description": "Licences <b>", "quantity": "2.5", "unit_price": "99.99", "tax_rate": vat.pk}
    draft = services.create_invoice(by=clerk, customer=acme, lines=[line])
    services.issue_invoice(invoice=services.create_invoice(by=clerk, customer=acme, lines=[line]), by=clerk)
    old = services.create_invoice(by=clerk, customer=dollars, lines=[line])
    services.issue_invoice(invoice=old, by=clerk, on=date(2020, 1, 1))
    void = services.issue_invoice(invoice=services.create_invoice(by=clerk, customer=acme, lines=[line]), by=clerk)
    services.void_invoice(invoice=void, by=manager, reason="Duplicate")
    sent = services.issue_invoice(
        invoice=services.create_invoice(by=clerk, customer=acme, data={"notes": "PO 4711\nThanks"}, lines=[taxed]),
        by=clerk,
    )
    services.send_invoice(invoice=sent, by=clerk, to="ap@customer.example")
    services.credit_invoice(invoice=sent, by=clerk, reason="Returned", lines=None)
    Invoice.objects.filter(pk=draft.pk).update(updated_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    return list(Invoice.objects.select_related("customer").order_by("id"))


def credit_notes():
    from billing.models import CreditNote

    invoices()
    return list(CreditNote.objects.select_related("invoice", "customer").order_by("id"))


def _add_invoice_rows():
    from billing.models import CreditNote, Invoice

    ROWS[Invoice] = invoices
    ROWS[CreditNote] = credit_notes


_add_invoice_rows()


# --- payments (receivables) ---


def payments():
    """Posted with and without a reference, part-applied, void, another currency."""
    from datetime import date

    from accounts.roles import FINANCE_CLERK
    from receivables import services
    from receivables.models import Payment

    clerk = UserFactory(username="fast-payments-clerk", role=FINANCE_CLERK)
    acme = CustomerFactory(name="Acme & Söhne <GmbH>")
    dollars = CustomerFactory(currency="USD")
    received = {"received_on": date(2026, 3, 2), "amount": "1234.50", "method": "bank_transfer"}
    services.record_payment(customer=acme, by=clerk, data={**received, "reference": "WIRE <4711>"})
    services.record_payment(customer=dollars, by=clerk, data={**received, "method": "cheque"})
    void = services.record_payment(customer=acme, by=clerk, data={**received, "method": "card"})
    services.void_payment(payment=void, by=clerk, reason="Bounced")
    return list(Payment.objects.select_related("customer").order_by("id"))


def _add_payment_rows():
    from receivables.models import Payment

    ROWS[Payment] = payments


_add_payment_rows()
