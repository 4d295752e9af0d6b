"""Never a wrong reminder (hypothesis): over random ledgers — invoices issued on random
days, paid in full or in part, credited, voided — and random holds — disputes, promises
(to come or past), manual holds (released or expired or not), late-stage and early deals,
serious and minor service cases — a dunning run reminds no invoice that is paid, has
nothing left to pay, is void, disputed, promised or held, and sends exactly what its
preview said, each (invoice, level) once.
"""

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services as billing
from billing.models import Invoice
from crm.models import ServiceCase
from receivables import dunning, services
from receivables.models import Dispute, DunningHold, DunningNoticeLine, PaymentPromise
from tests.factories import CustomerFactory, OpportunityFactory, ServiceCaseFactory, stage

D = Decimal
AS_OF = date(2026, 6, 30)
CUSTOMERS = 3

cents = st.integers(min_value=1, max_value=100_000).map(lambda c: D(c) / 100)
pick = st.integers(min_value=0, max_value=20)
# Issued this many days before the run, with 30 days to pay: from not yet due to 90 days overdue,
# around each level's day of the default policy (−3, +3, +14, +21, +30).
days_ago = st.sampled_from([0, 20, 26, 27, 29, 33, 34, 43, 44, 50, 51, 59, 60, 61, 90, 120])
ledgers = st.lists(st.tuples(st.just("issue"), pick, days_ago, cents), min_size=2, max_size=8)
events = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), pick, days_ago, cents),
        st.tuples(st.just("pay"), pick, st.sampled_from(["all", "part"])),
        st.tuples(st.just("credit"), pick),
        st.tuples(st.just("void"), pick),
        st.tuples(st.just("dispute"), pick, st.booleans()),
        st.tuples(st.just("promise"), pick, st.booleans(), st.integers(min_value=-5, max_value=5)),
        st.tuples(st.just("hold"), pick, st.booleans(), st.sampled_from(["open", "released", "expired"])),
        st.tuples(st.just("deal"), pick, st.sampled_from(["Qualification", "Proposal", "Negotiation", "Won"])),
        st.tuples(st.just("case"), pick, st.sampled_from(["normal", "high", "critical"])),
    ),
    min_size=1,
    max_size=30,
)


class Rollback(Exception):
    """Ends an example: everything it wrote is rolled back."""


def nth(items, index):
    if not items:
        raise ValidationError("nothing to pick")
    return items[index % len(items)]


def apply(event, customers, invoices, actors):
    kind, *args = event
    clerk, manager, rep = actors["clerk"], actors["finance_manager"], actors["rep"]
    if kind == "issue":
        customer = customers[args[0] % CUSTOMERS]
        draft = billing.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "Work", "quantity": "1", "unit_price": str(args[2])}]
        )
        invoices.append(
            billing.issue_invoice(invoice=draft, by=clerk, on=AS_OF - timedelta(days=args[1]), render=False)
        )
        return
    if kind in ("deal", "case"):
        customer = customers[args[0] % CUSTOMERS]
        if kind == "deal":
            OpportunityFactory(customer=customer, stage=stage(args[1]))
        else:
            ServiceCaseFactory(customer=customer, severity=args[1])
        return
    invoice = Invoice.objects.get(pk=nth(invoices, args[0]).pk)
    if kind == "pay":
        amount = invoice.balance_due if args[1] == "all" else (invoice.balance_due / 2).quantize(D("0.01"))
        services.record_payment(
            customer=invoice.customer,
            by=clerk,
            data={"received_on": AS_OF - timedelta(days=1), "amount": amount},
            allocations=[(invoice, amount)],
        )
    elif kind == "credit":
        billing.credit_invoice(invoice=invoice, by=clerk, reason="Correction")
    elif kind == "void":
        billing.void_invoice(invoice=invoice, by=manager, reason="Wrong customer")
    elif kind == "dispute":
        dispute = dunning.open_dispute(invoice=invoice, by=rep, amount=invoice.balance_due, reason="Damaged")
        if args[1]:
            dunning.resolve_dispute(dispute=dispute, by=clerk, outcome="rejected", note="Delivered intact")
    elif kind == "promise":
        whole_account, days = args[1], args[2]
        # Taken some days ago, for a day before or after the run.
        promise = dunning.take_promise(
            customer=invoice.customer,
            invoice=None if whole_account else invoice,
            by=clerk,
            amount=D("0.01"),
            promised_for=AS_OF + timedelta(days=days),
            on=AS_OF - timedelta(days=10),
        )
        assert promise.status == "active"
    elif kind == "hold":
        whole_customer, state = args[1], args[2]
        hold = dunning.set_dunning_hold(
            customer=invoice.customer,
            invoice=None if whole_customer else invoice,
            by=clerk,
            reason="Talking to them",
            until=AS_OF - timedelta(days=1) if state == "expired" else None,
            on=AS_OF - timedelta(days=10),
        )
        if state == "released":
            dunning.release_dunning_hold(hold=hold, by=clerk)


def assert_never_a_wrong_reminder(run):
    probability, amount = dunning.hold_thresholds()
    for line in DunningNoticeLine.objects.filter(notice__run=run).select_related("invoice"):
        invoice = line.invoice
        customer_id = invoice.customer_id
        assert invoice.status in ("issued", "partially_paid"), "paid or void"
        assert invoice.balance_due > 0 and line.balance == invoice.balance_due, "zero balance or a stale balance"
        assert not Dispute.objects.open().filter(invoice=invoice).exists(), "disputed"
        promised = PaymentPromise.objects.active().filter(customer_id=customer_id, promised_for__gte=run.as_of)
        assert not promised.filter(invoice__isnull=True).exists(), "promised (account)"
        assert not promised.filter(invoice=invoice).exists(), "promised (invoice)"
        held = DunningHold.objects.active(run.as_of).filter(customer_id=customer_id)
        assert not held.filter(invoice__isnull=True).exists() and not held.filter(invoice=invoice).exists(), "held"
        assert not ServiceCase.objects.serious().filter(customer_id=customer_id).exists(), "serious case"
        deals = invoice.customer.opportunities.open()
        assert not deals.filter(stage__probability__gte=probability).exists(), "late-stage deal"
        assert not deals.filter(amount__gte=amount).exists(), "large deal"
        assert (run.as_of - invoice.due_date).days >= line.level.days_after_due, "level before its day"


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers, events=events)
def test_never_a_reminder_for_a_paid_disputed_promised_or_held_invoice(
    ledger, events, actors, django_capture_on_commit_callbacks
):
    try:
        with transaction.atomic():
            customers = [CustomerFactory(owner=actors["rep"]) for _ in range(CUSTOMERS)]
            invoices = []
            for event in [*ledger, *events]:
                # A refusal is fine (a dispute on a paid invoice, a void with payments…);
                # it must leave nothing half-written, which the invariants then read.
                with contextlib.suppress(ValidationError), transaction.atomic():
                    apply(event, customers, invoices, actors)
            preview = dunning.plan_dunning(AS_OF)
            planned = {(line.invoice_id, line.level.pk) for plan in preview.to_send for line in plan.lines}
            with django_capture_on_commit_callbacks(execute=True):
                run = dunning.run_dunning(as_of=AS_OF, by=actors["clerk"])
            run.refresh_from_db()
            sent = list(DunningNoticeLine.objects.filter(notice__run=run).values_list("invoice_id", "level_id"))
            assert set(sent) == planned and len(sent) == len(set(sent)), "the run sends what the preview said, once"
            assert run.status == "done" and run.notices_sent + run.notices_failed == len(preview.to_send)
            assert_never_a_wrong_reminder(run)
            raise Rollback
    except Rollback:
        pass
