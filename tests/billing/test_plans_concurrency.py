"""Billing runs at the same moment (two workers, the button pressed twice, a task
delivered twice): every plan's period is invoiced exactly once, numbers stay gapless."""

import threading
from datetime import date

import pytest
from django.db import connection, connections

from billing import plans, tasks
from billing.models import BillingPlan, BillingRun, Invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AS_OF = date(2026, 3, 10)  # January, February and March are due


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (CI runs it there)")


@pytest.fixture(autouse=True)
def _no_pdfs(monkeypatch):
    """The PDFs of the issued invoices are another test's business (and WeasyPrint's time)."""
    monkeypatch.setattr("core.documents._enqueue", lambda document_id: None)


@pytest.fixture
def due_plans(finance_manager, customer, vat):
    return [
        plans.create_plan(
            by=finance_manager,
            customer=customer,
            data={"name": f"Plan {n}", "interval": "monthly", "start_date": date(2026, 1, 1), "auto_issue": n % 2 == 0},
            lines=[{"description": "Support", "quantity": "1", "unit_price": "100.00", "tax_rate": vat}],
        )
        for n in range(6)
    ]


def at_once(count, work):
    """Run work(i) in `count` threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 -- the test reads it
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_runs_at_once_invoice_each_plan_and_period_exactly_once(due_plans, clerk, finance_manager):
    runs = at_once(2, lambda index: plans.run_billing(as_of=AS_OF, by=(clerk, finance_manager)[index]))

    assert all(isinstance(run, BillingRun) and run.status == BillingRun.Status.DONE for run in runs), runs
    assert all(run.failures == [] for run in runs)
    periods = list(Invoice.objects.values_list("billing_plan", "period_start"))
    assert len(periods) == len(set(periods)) == 6 * 3
    assert sum(run.invoices_created for run in runs) == 18
    assert sum(run.invoices_issued for run in runs) == 9  # the plans with auto-issue
    numbers = sorted(
        int(number.rsplit("-", 1)[1])
        for number in Invoice.objects.exclude(number=None).values_list("number", flat=True)
    )
    assert numbers == list(range(1, 10))  # gapless
    assert set(BillingPlan.objects.values_list("next_invoice_date", flat=True)) == {date(2026, 4, 1)}


def test_four_runs_at_once_and_one_after_make_nothing_twice(due_plans, clerk):
    at_once(4, lambda index: plans.run_billing(as_of=AS_OF, by=clerk))
    again = plans.run_billing(as_of=AS_OF, by=clerk)
    assert again.invoices_created == 0
    assert Invoice.objects.count() == 18


def test_the_task_delivered_twice_at_once_runs_the_run_once(due_plans, clerk):
    run = BillingRun.objects.create(as_of=AS_OF, started_by=clerk)
    outcomes = at_once(2, lambda index: tasks.run_billing_task(run.pk))
    assert sorted(outcomes, key=str) == sorted([BillingRun.Status.DONE, None], key=str)
    run.refresh_from_db()
    assert run.invoices_created == 18 and run.plans_done == run.plans_total == 6


def test_the_button_pressed_twice_at_once_starts_one_run(clerk, finance_manager, monkeypatch):
    monkeypatch.setattr("billing.tasks.run_billing_task.delay", lambda run_id: None)
    outcomes = at_once(2, lambda index: plans.start_billing_run(by=(clerk, finance_manager)[index], as_of=AS_OF))
    started = [outcome for outcome in outcomes if isinstance(outcome, BillingRun)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, plans.BillingRunConflict)]
    assert len(started) == 1 and len(refused) == 1, outcomes
    assert BillingRun.objects.count() == 1
