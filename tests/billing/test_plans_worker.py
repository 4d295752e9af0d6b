"""A billing run carried out by a real Celery worker: "Run billing now" hands the run
to the worker through Redis, which bills the plan, issues the invoices, renders their
PDF and emails them. (Every other recurring-billing test runs tasks eagerly.)"""

import time

import pytest
from django.conf import settings
from django.utils import timezone

from billing import plans
from billing.models import BillingRun, Invoice
from billing.tasks import run_billing_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for_run(run, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (BillingRun.Status.DONE, BillingRun.Status.FAILED):
            return run
        time.sleep(0.2)
    pytest.fail(f"the worker did not finish the billing run in {seconds} s (status {run.status})")


def test_a_real_worker_runs_billing_and_mails_the_invoices(celery_worker_process, finance_manager, clerk, customer):
    inbox = celery_worker_process
    inbox.clear()
    start = plans.add_months(timezone.localdate().replace(day=1), -1)  # last month and this month are due
    plan = plans.create_plan(
        by=finance_manager,
        customer=customer,
        data={"name": "Support 24/7", "interval": "monthly", "start_date": start, "auto_send": True},
        lines=[{"description": "Support 24/7", "quantity": "1", "unit_price": "250.00"}],
    )

    run = wait_for_run(plans.start_billing_run(by=clerk))

    assert run.status == BillingRun.Status.DONE, run.failures
    assert (run.plans_done, run.invoices_created, run.invoices_issued, run.invoices_sent) == (1, 2, 2, 2)
    invoices = Invoice.objects.filter(billing_plan=plan).order_by("period_start")
    assert [invoice.period_start for invoice in invoices] == [start, plans.next_period(plan, start)]
    messages = inbox.wait_for(2, timeout=60)
    assert sorted(message["Subject"] for message in messages) == sorted(
        f"Invoice {invoice.number} from {settings.COMPANY['name']}" for invoice in invoices
    )
    # Delivered again (a redelivery after a lost worker): nothing happens.
    assert run_billing_task.delay(run.pk).get(timeout=30) is None
    assert Invoice.objects.filter(billing_plan=plan).count() == 2
