"""Invoice numbers under real concurrency (PostgreSQL): many people issuing at once,
some of their transactions rolled back after the number was taken, still give the
committed invoices 1..N with no gap and no duplicate; one draft issued twice at once
gets one number; a deal invoiced from several sessions at once is never invoiced
beyond its amount; an invoice credited twice at once never beyond its balance."""

import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from billing import services
from billing.models import CreditNote, Invoice
from core import documents
from core.models import Sequence
from tests.concurrency import run_at_once
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 16


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (CI runs it there)")


@pytest.fixture(autouse=True)
def _no_rendering(monkeypatch):
    """The PDFs are asked for (a pending document each) but not rendered: not the point here."""
    monkeypatch.setattr(documents, "_enqueue", lambda document_id: None)


class RolledBack(Exception):
    """Raised inside the caller's transaction after issue_invoice returned."""


def five_line_draft(clerk, customer):
    lines = [
        {"description": f"Item {n}", "quantity": "3", "unit_price": f"{10 * n}.99", "discount_percent": "5"}
        for n in range(1, 6)
    ]
    return services.create_invoice(by=clerk, customer=customer, lines=lines)


def test_sixteen_people_issuing_at_once_with_rollbacks_give_1_to_n_without_gaps(clerk, finance_manager):
    customer = CustomerFactory()
    drafts = [five_line_draft(clerk, customer) for _ in range(THREADS)]
    rolled_back = {index for index in range(THREADS) if index % 4 == 1}  # 4 of 16

    def issue(index, draft):
        with transaction.atomic():
            issued = services.issue_invoice(invoice=draft, by=clerk if index % 2 else finance_manager)
            if index in rolled_back:
                time.sleep(0.05)  # holding the counter while others wait for it
                raise RolledBack(issued.number)
        return issued.number

    outcomes = run_at_once(issue, list(enumerate(drafts)))

    for index, outcome in enumerate(outcomes):
        if index in rolled_back:
            assert isinstance(outcome, RolledBack) and str(outcome).startswith("INV-"), outcome  # it had a number
        else:
            assert isinstance(outcome, str), outcome
    committed = THREADS - len(rolled_back)
    year = timezone.localdate().year
    expected = [f"INV-{year}-{n:06d}" for n in range(1, committed + 1)]
    assert sorted(outcome for outcome in outcomes if isinstance(outcome, str)) == expected
    numbers = list(Invoice.objects.exclude(number=None).order_by("number").values_list("number", flat=True))
    assert numbers == expected  # no gap, no duplicate, nothing of the rolled-back ones
    assert Sequence.objects.get(key="INV", year=year).last == committed
    for index in rolled_back:
        draft = Invoice.objects.get(pk=drafts[index].pk)
        assert draft.is_draft and draft.number is None and draft.version == 1


def test_two_people_issuing_the_same_draft_give_one_number(clerk, finance_manager):
    draft = five_line_draft(clerk, CustomerFactory())

    outcomes = run_at_once(
        lambda user: services.issue_invoice(invoice=draft, by=user).number, [(clerk,), (finance_manager,)]
    )

    numbers = [outcome for outcome in outcomes if isinstance(outcome, str)]
    conflicts = [outcome for outcome in outcomes if isinstance(outcome, services.InvoiceConflict)]
    assert len(numbers) == 1 and len(conflicts) == 1, outcomes
    assert "issued already" in conflicts[0].messages[0]
    assert Invoice.objects.get(pk=draft.pk).number == numbers[0]
    assert Sequence.objects.get(key="INV").last == 1


def test_invoicing_a_deal_from_several_sessions_never_exceeds_it(rep, clerk, finance_manager, won_deal):
    """Four 40 % deposits at once: two fit in the deal (80 %), two are refused."""
    outcomes = run_at_once(
        lambda user: services.invoice_opportunity(opportunity=won_deal, by=user, percent="40"),
        [(rep,), (clerk,), (finance_manager,), (rep,)],
    )

    made = [outcome for outcome in outcomes if isinstance(outcome, Invoice)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert len(made) == 2 and len(refused) == 2, outcomes
    assert all("left to invoice" in " ".join(error.messages) for error in refused)
    assert services.invoiced_net(won_deal) == Decimal("700.74")  # 2 × 350.37 of 875.92
    assert services.invoiced_net(won_deal) <= won_deal.amount


def test_invoicing_the_rest_twice_at_once_makes_one_invoice(rep, clerk, won_deal):
    services.invoice_opportunity(opportunity=won_deal, by=rep, percent="30")

    outcomes = run_at_once(
        lambda user: services.invoice_opportunity(opportunity=won_deal, by=user, remaining=True), [(rep,), (clerk,)]
    )

    assert sum(isinstance(outcome, Invoice) for outcome in outcomes) == 1, outcomes
    assert sum(isinstance(outcome, services.InvoiceConflict) for outcome in outcomes) == 1, outcomes
    assert services.invoiced_net(won_deal) == won_deal.amount
    assert Invoice.objects.filter(opportunity=won_deal).count() == 2


def test_crediting_an_invoice_twice_at_once_never_exceeds_its_balance(rep, clerk, finance_manager, won_deal):
    invoice = services.issue_invoice(invoice=services.invoice_opportunity(opportunity=won_deal, by=rep), by=clerk)

    outcomes = run_at_once(
        lambda user: services.credit_invoice(invoice=invoice, by=user, reason="Cancelled"),
        [(clerk,), (finance_manager,)],
    )

    assert sum(isinstance(outcome, CreditNote) for outcome in outcomes) == 1, outcomes
    assert sum(isinstance(outcome, services.InvoiceConflict) for outcome in outcomes) == 1, outcomes
    invoice.refresh_from_db()
    assert (invoice.amount_credited, invoice.balance_due) == (invoice.total, Decimal("0.00"))
    assert Sequence.objects.get(key="CN").last == 1
