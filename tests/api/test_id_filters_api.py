"""The API lists' id filters (`?customer=`, `?owner=`, `?invoice=`…) take whole ids only:
`1.5` or `1e3` is a 400 naming the filter, where it used to answer customer 1's or
customer 1000's rows (core.api.filters.IdFilter); a whole id filters as it did.

Invoices are issued on 1 March 2026 with 30 days to pay, so they are overdue today."""

from datetime import date

import pytest
from django.utils import timezone

from billing import plans
from billing import services as billing
from crm import quotes
from receivables import dunning
from receivables import services as ledger
from receivables.models import CollectionTask, DunningNotice
from tests.factories import ContactFactory, CustomerFactory, LeadFactory, OpportunityLineFactory, ServiceCaseFactory

from .helpers import error_of

pytestmark = pytest.mark.django_db

API = "/api/v1/"
BY_CUSTOMER = [
    "contacts",
    "service-cases",
    "opportunities",
    "quotes",
    "invoices",
    "credit-notes",
    "billing-plans",
    "payments",
    "allocations",
    "dunning-notices",
    "dunning-holds",
    "disputes",
    "payment-promises",
    "collection-tasks",
]
BY_OWNER = ["customers", "leads", "service-cases", "opportunities", "invoices", "disputes"]
BY_OTHER_ID = [
    ("invoices", "opportunity"),
    ("credit-notes", "invoice"),
    ("allocations", "invoice"),
    ("allocations", "payment"),
    ("dunning-notices", "run"),
    ("dunning-holds", "invoice"),
    ("disputes", "invoice"),
    ("payment-promises", "invoice"),
]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return sorted(row["id"] for row in response.json()["results"])


def pks(records) -> list[int]:
    return sorted(record.pk for record in (records if isinstance(records, list) else [records]))


@pytest.mark.parametrize(
    ("path", "param"),
    [(path, "customer") for path in BY_CUSTOMER] + [(path, "owner") for path in BY_OWNER] + BY_OTHER_ID,
)
@pytest.mark.parametrize("value", ["1.5", "1e3", "abc"])
def test_an_id_that_is_not_a_whole_number_is_a_400_naming_the_filter(as_actor, path, param, value):
    response = as_actor("admin").get(f"{API}{path}/", {param: value})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert list(error_of(response)["fields"]) == [param]


@pytest.fixture
def book(clerk, finance_manager, rep, other_rep, django_capture_on_commit_callbacks) -> dict:
    """Two customers (rep's and other_rep's), each with a record of every list; the
    records of rep's customer by list."""
    records = {}
    for owner in (rep, other_rep):
        customer = CustomerFactory(owner=owner)
        deal = OpportunityLineFactory(opportunity__customer=customer, opportunity__owner=owner).opportunity
        invoice, held, credited = (_issued(clerk, customer, net) for net in ("100.00", "50.00", "30.00"))
        with django_capture_on_commit_callbacks(execute=True):
            dunning.run_dunning(as_of=date(2026, 4, 21), by=clerk)
        payment = ledger.record_payment(
            customer=customer,
            by=clerk,
            data={"received_on": timezone.localdate(), "amount": "10.00", "method": "bank_transfer"},
        )
        records[owner] = {
            "customer": customer,
            "contacts": ContactFactory(customer=customer),
            "service-cases": ServiceCaseFactory(customer=customer),
            "opportunities": deal,
            "quotes": quotes.create_quote(opportunity=deal, by=owner),
            "leads": LeadFactory(owner=owner),
            "invoices": [invoice, held, credited],
            "credit-notes": billing.credit_invoice(invoice=credited, by=clerk, reason="Wrong price"),
            "billing-plans": plans.create_plan(
                by=finance_manager,
                customer=customer,
                data={"name": "Support", "interval": "quarterly", "start_date": date(2026, 1, 1)},
                lines=[{"description": "Support", "quantity": "1", "unit_price": "300.00"}],
            ),
            "payments": payment,
            "allocations": payment.allocations.get(),
            "dunning-notices": DunningNotice.objects.get(customer=customer),
            "dunning-holds": dunning.set_dunning_hold(customer=customer, by=clerk, reason="PO", invoice=held),
            "disputes": dunning.open_dispute(invoice=held, by=clerk, amount="10", reason="Price"),
            "payment-promises": dunning.take_promise(
                customer=customer, by=clerk, amount="10", promised_for=timezone.localdate(), invoice=held
            ),
            "collection-tasks": CollectionTask.objects.get(customer=customer),
        }
    return records[rep]


def _issued(clerk, customer, net):
    invoice = billing.create_invoice(
        by=clerk,
        customer=customer,
        data={"payment_days": 30},
        lines=[{"description": "Services", "quantity": "1", "unit_price": net}],
    )
    return billing.issue_invoice(invoice=invoice, by=clerk, on=date(2026, 3, 1), render=False)


@pytest.mark.parametrize("path", BY_CUSTOMER)
def test_a_whole_customer_id_lists_that_customers_records(as_actor, book, path):
    assert ids(as_actor("admin").get(f"{API}{path}/", {"customer": book["customer"].pk})) == pks(book[path])


@pytest.mark.parametrize("path", BY_OWNER)
def test_a_whole_owner_id_lists_the_records_of_that_owners_customers(as_actor, book, rep, path):
    expected = book["customer"] if path == "customers" else book[path]
    assert ids(as_actor("admin").get(f"{API}{path}/", {"owner": rep.pk})) == pks(expected)
